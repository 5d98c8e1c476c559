"""A small OpenID Connect provider on 127.0.0.1 for the single sign-on tests.

Real HTTP, real RS256-signed ID tokens (joserfc), the discovery document, authorize, token,
userinfo and JWKS endpoints: enough for Authlib, which Streamlit's ``st.login`` uses. It signs in
whoever :attr:`FakeIdentityProvider.email` names, without asking (a provider that remembers you).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse


class FakeIdentityProvider:
    def __init__(self, client_id: str = "narratives-test", client_secret: str = "test-secret") -> None:
        from joserfc.jwk import RSAKey

        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.email = "sam@example.org"
        self.codes: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeIdentityProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    def id_token(self, nonce: str | None, email: str) -> str:
        from joserfc import jwt

        now = int(time.time())
        claims = {
            "iss": self.url, "sub": email, "aud": self.client_id, "iat": now, "exp": now + 600,
            "email": email, "email_verified": True, "name": email.split("@")[0],
        }  # fmt: skip
        if nonce:
            claims["nonce"] = nonce
        return str(jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return

            def _json(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                provider.requests.append(parsed.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                if parsed.path == "/.well-known/openid-configuration":
                    return self._json(provider.discovery())
                if parsed.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(private=False)]})
                if parsed.path == "/authorize":
                    if query.get("client_id") != provider.client_id:
                        return self._json({"error": "unauthorized_client"}, 400)
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {"nonce": query.get("nonce"), "email": provider.email}
                    target = (
                        query["redirect_uri"]
                        + "?"
                        + urlencode({"code": code, "state": query.get("state", "")})
                    )
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                if parsed.path == "/userinfo":
                    return self._json(
                        {"sub": provider.email, "email": provider.email, "email_verified": True}
                    )
                return self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:
                provider.requests.append(urlparse(self.path).path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlparse(self.path).path != "/token" or form.get("grant_type") != "authorization_code":
                    return self._json({"error": "invalid_request"}, 400)
                grant = provider.codes.pop(form.get("code", ""), None)
                if grant is None:
                    return self._json({"error": "invalid_grant"}, 400)
                return self._json({
                    "access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 600,
                    "id_token": provider.id_token(grant["nonce"], grant["email"]),
                })  # fmt: skip

        return Handler
