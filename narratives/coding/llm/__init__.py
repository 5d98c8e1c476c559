"""The optional LLM coder: codes segments by asking the user's own OpenAI-compatible server.

:mod:`.settings` says which server and model (loopback only unless allowed), :mod:`.client` talks to
it, :mod:`.prompt` builds the prompt and checks the answers, :mod:`.coder` is the coder the ensemble
runs, with its answers cached in the project (:mod:`narratives.store.llm_answers`).
"""
