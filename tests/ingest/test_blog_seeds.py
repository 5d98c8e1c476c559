"""Blog exports as they come off the web: the five raw seed files and exports of other shapes.

The expected posts of the seed files were read off the files by hand (tests/fixtures/seeds/, copied
from the project's shared seeds): 13 posts, one of them ("3 steps ...") in two files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from narratives.cli import app
from narratives.ingest.blogs import LOW_CONFIDENCE, blog_documents, preview_split, split_posts
from narratives.ingest.readers import ReadOptions, read_files
from narratives.schema import SourceKind

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"

# (file, line of the title, title, first words of the body)
SEED_POSTS = [
    (
        "000_5d14c5de1c5433f6.txt",
        1,
        "3 steps to Making It Real for DPULOs (#dpulo)",
        "Personalisation is the driving force",
    ),
    (
        "000_5d14c5de1c5433f6.txt",
        32,
        "In-house and external costs in #socialcare: a comparison",
        "I have to confess that",
    ),
    (
        "001_bc12ed2d015b91af.txt",
        1,
        "Snippets from a study on #personalisation",
        "Yesterday, I cross-posted a blogpost",
    ),
    (
        "001_bc12ed2d015b91af.txt",
        20,
        "3 steps to Making It Real for DPULOs (#dpulo)",
        "Personalisation is the driving force",
    ),
    (
        "002_bf43c9f2ea4055fc.txt",
        3,
        "Personalisation, austerity and making progress",
        "By Martin Routledge, head of operations",
    ),
    ("003_671e4e7e304c8be8.txt", 1, "Commissioning", "Yesterday, I caught up with a friend"),
    (
        "003_671e4e7e304c8be8.txt",
        33,
        "Fear and Loathing in the Public Sector – Or Why I despise Oliver Letwin",
        "Oliver Letwin, United Kingdom",
    ),
    (
        "003_671e4e7e304c8be8.txt",
        97,
        "Goodbye Southern Cross, Hello Open Public Services",
        "So Southern Cross",
    ),
    (
        "003_671e4e7e304c8be8.txt",
        155,
        "Making Adult Social Care Better 1",
        "I think I’m fairly good at griping",
    ),
    (
        "003_671e4e7e304c8be8.txt",
        191,
        "Initial thoughts on the Dilnot Report on Funding of Care and Support",
        "Scheduling and exhaustion meant",
    ),
    ("003_671e4e7e304c8be8.txt", 251, "Waiting for Dilnot", "The Dilnot Commission on Care Funding"),
    (
        "003_671e4e7e304c8be8.txt",
        279,
        "Personal Budgets, Personalisation, Thoughts and Hopes",
        "Yesterday Think Local Act Personal",
    ),
    (
        "004_30dfbd5ebf9cb88a.txt",
        1,
        "Thoughts for the Department of Health and Social Care",
        "Most debates about social care",
    ),
]
# the last words of a post, where the next post or the page's chrome follows
SEED_POST_ENDINGS = {
    ("000_5d14c5de1c5433f6.txt", 1): "a map of them is available here.)",
    ("001_bc12ed2d015b91af.txt", 1): "background / description here:",
    ("002_bf43c9f2ea4055fc.txt", 3): "You can also read the article on the Guardian Homecare Hub.",
    ("003_671e4e7e304c8be8.txt", 1): "I see every day.",
    ("003_671e4e7e304c8be8.txt", 155): "making our voices heard.",
}


def seed_posts() -> list[tuple[str, int, str, str]]:
    found = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for span in preview_split(text, "auto"):
            found.append((path.name, span.line, span.title, text[span.start : span.end]))
    return found


def test_the_seed_files_split_into_their_thirteen_posts() -> None:
    found = seed_posts()
    assert [(name, line, title) for name, line, title, _ in found] == [
        (name, line, " ".join(title.split())) for name, line, title, _ in SEED_POSTS
    ]
    for (_, _, _, body), (name, line, _, first_words) in zip(found, SEED_POSTS, strict=True):
        assert " ".join(body.split()).startswith(first_words), (name, line)
    for name, line, _, body in found:
        if (name, line) in SEED_POST_ENDINGS:
            assert " ".join(body.split()).endswith(SEED_POST_ENDINGS[(name, line)]), (name, line)


def test_no_seed_post_holds_a_title_or_chrome_of_another() -> None:
    titles = {" ".join(title.split()) for _, _, title, _ in SEED_POSTS}
    for name, line, _, body in seed_posts():
        lines = {" ".join(part.split()) for part in body.splitlines()}
        assert not titles & lines, (name, line)
        assert not {"Accessibility", "Leave Comment"} & lines, (name, line)


def test_seed_chrome_is_left_out_and_named_in_the_notes() -> None:
    path = SEEDS / "002_bf43c9f2ea4055fc.txt"
    result = split_posts(path.read_text(encoding="utf-8"))
    assert [number for number, _ in result.chrome] == [1, 27, 29]
    notes: list[str] = []
    blog_documents(path.read_text(encoding="utf-8"), path, notes=notes)
    chrome_note = next(note for note in notes if "page chrome" in note)
    assert "line 1 'Accessibility'" in chrome_note and "line 27 'Leave Comment'" in chrome_note


def test_a_sentence_case_split_is_reported_as_low_confidence() -> None:
    path = SEEDS / "000_5d14c5de1c5433f6.txt"
    result = split_posts(path.read_text(encoding="utf-8"))
    first, second = result.posts
    assert first.confidence >= LOW_CONFIDENCE > second.confidence >= 0.5
    notes: list[str] = []
    blog_documents(path.read_text(encoding="utf-8"), path, notes=notes)
    assert any("post 2" in note and "(line 32)" in note and "low confidence" in note for note in notes)


def test_ingest_reads_thirteen_blog_documents_from_the_seed_folder() -> None:
    batch = read_files([SEEDS], ReadOptions(kind=SourceKind.blog))
    assert batch.failures == []
    assert len(batch.documents) == 13
    assert all(document.kind == SourceKind.blog for document in batch.documents)
    assert "Accessibility" not in {document.title for document in batch.documents}
    assert any("low confidence" in note for note in batch.notes)


def test_ingesting_the_seeds_stores_each_post_once(tmp_path: Path) -> None:
    from narratives.ingest.to_project import ingest_paths
    from narratives.store.project import init_project

    project = init_project(tmp_path / "project")
    try:
        report = ingest_paths(project, [SEEDS], ReadOptions(kind=SourceKind.blog), user="tester")
    finally:
        project.close()
    assert not report.failed
    added = {Path(outcome.path).name: outcome.added for outcome in report.files}
    assert added == {
        "000_5d14c5de1c5433f6.txt": 2,
        "001_bc12ed2d015b91af.txt": 1,  # its second post is the first post of 000, stored once
        "002_bf43c9f2ea4055fc.txt": 1,
        "003_671e4e7e304c8be8.txt": 7,
        "004_30dfbd5ebf9cb88a.txt": 1,
    }
    assert sum(outcome.unchanged for outcome in report.files) == 1


def test_split_preview_shows_confidence_and_the_chrome_left_out() -> None:
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "unused-project",
            str(SEEDS / "002_bf43c9f2ea4055fc.txt"),
            "--kind",
            "blog",
            "--split-preview",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "confidence" in result.output and "0.95" in result.output
    assert "Accessibility" in result.output and "left out" in result.output
    assert "Personalisation, austerity" in result.output


# --- exports of other shapes, written for these tests ------------------------------------------

PARAGRAPH = (
    "The assessment took four months and three visits, and each time a different worker asked the same "
    "questions about washing, dressing and meals. Nobody wrote down what my dad said he wanted from the "
    "day, only what he could no longer do. When the plan came it was built around the agency's rota."
)
OTHER = (
    "We filled in the forms together at the kitchen table. The money arrives every four weeks and I "
    "keep every receipt in a shoebox, because the audit letter says they can ask for two years of them "
    "at any time, and the helpline closes at four."
)

WORDPRESS = f"""Skip to content
Carers Voice
Menu
Home
About
Search for:

Why respite matters more than ever

Posted on 14 March 2022 by Sam Okafor

{PARAGRAPH}

{OTHER}

Share this:
Twitter
Facebook
Like this:
Like Loading...

Posted in Carers, Respite | 2 Comments

Direct payments: the paperwork nobody mentions

March 2, 2022

{OTHER}

{PARAGRAPH}

Related

Older posts
Blog at WordPress.com.
"""

MEDIUM = f"""Open in app
Sign up
Sign in
Write
Search

When the care agency stopped coming
What three weeks without home care taught our family

Priya Natarajan
Follow
7 min read
·
Nov 8, 2023

Listen
Share

{PARAGRAPH}

{OTHER}

Social Care · Carers · Home Care · Disability

Written by Priya Natarajan
214 Followers
More from Priya Natarajan
Recommended from Medium
"""

BLOGGER = f"""Saturday, 4 May 2019

Care Homes and the Cost of Waiting

{PARAGRAPH}

It gets easier

{OTHER}

Posted by Ruth at 09:14 No comments:

Email ThisBlogThis!Share to TwitterShare to Facebook

Labels: care homes, funding

Thursday, 11 April 2019

A day at the day centre (before it closed)

{OTHER}

Does anyone read these?

{PARAGRAPH}
"""

UNTITLED = f"""{PARAGRAPH}

It gets easier

{OTHER}

{PARAGRAPH}
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            WORDPRESS,
            [
                (
                    "Why respite matters more than ever",
                    "Posted on 14 March 2022 by Sam Okafor",
                    "closes at four.",
                ),
                ("Direct payments: the paperwork nobody mentions", "March 2, 2022", "the agency's rota."),
            ],
            id="wordpress-with-dates-under-titles",
        ),
        pytest.param(
            MEDIUM,
            [
                (
                    "When the care agency stopped coming",
                    "What three weeks without home care",
                    "closes at four.",
                )
            ],
            id="medium-with-subtitle-and-chrome",
        ),
        pytest.param(
            BLOGGER,
            [
                ("Care Homes and the Cost of Waiting", "The assessment took four months", "closes at four."),
                (
                    "A day at the day centre (before it closed)",
                    "We filled in the forms",
                    "the agency's rota.",
                ),
            ],
            id="blogger-with-dates-above-titles",
        ),
        pytest.param(
            UNTITLED,
            [
                (
                    "The assessment took four months and three visits, …",
                    "The assessment took",
                    "the agency's rota.",
                )
            ],
            id="one-post-without-a-title",
        ),
    ],
)
def test_exports_of_other_shapes_split_into_their_posts(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    posts = preview_split(text, "auto")
    found = [(post.title, text[post.start : post.end]) for post in posts]
    assert [title for title, _ in found] == [title for title, _, _ in expected]
    for (_, body), (title, first_words, last_words) in zip(found, expected, strict=True):
        assert body.startswith(first_words), title
        assert body.endswith(last_words), title
        assert not re.search(
            r"(?m)^(?:Share this:|Like Loading|Posted in|Labels:|Related|\d+ Followers)", body
        )


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        (WORDPRESS, [("2022-03-14", "Sam Okafor"), ("2022-03-02", None)]),
        (BLOGGER, [("2019-05-04", None), ("2019-04-11", None)]),
        (MEDIUM, [(None, None)]),
    ],
)
def test_dates_and_bylines_next_to_a_title_become_the_posts_date_and_author(
    text: str, facts: list[tuple[str | None, str | None]]
) -> None:
    documents = blog_documents(text, "export.txt")
    assert [(document.date, document.author) for document in documents] == facts


def test_a_seed_byline_becomes_the_author() -> None:
    path = SEEDS / "002_bf43c9f2ea4055fc.txt"
    [document] = blog_documents(path.read_text(encoding="utf-8"), path)
    assert (document.title, document.author, document.date) == (
        "Personalisation, austerity and making progress",
        "Martin Routledge",
        None,
    )


def test_chrome_and_dates_are_never_titles() -> None:
    for text in (WORDPRESS, MEDIUM, BLOGGER):
        titles = {post.title for post in preview_split(text, "heuristic")}
        assert not titles & {
            "Skip to content",
            "Menu",
            "Home",
            "Search for:",
            "Share this:",
            "Related",
            "Sign in",
        }
        assert not any(re.search(r"\d{4}", title) for title in titles)


def test_a_post_without_a_title_line_is_one_post_with_middling_confidence() -> None:
    result = split_posts(UNTITLED, "auto")
    assert len(result.posts) == 1 and result.chrome == []
    assert result.posts[0].confidence < LOW_CONFIDENCE
    assert UNTITLED[result.posts[0].start : result.posts[0].end] == UNTITLED.strip()


blog_lines = st.lists(
    st.sampled_from(
        [
            "",
            "",
            "Accessibility",
            "Share this:",
            "Posted in Carers | Leave a comment",
            "Related",
            "March 2, 2022",
            "By Sam Okafor",
            "Why Respite Matters",
            "Costs in #socialcare: a comparison",
            "It gets easier",
            "You can also see the videos here:",
            PARAGRAPH,
            OTHER,
        ]
    ),
    max_size=40,
)


@given(blog_lines)
def test_every_line_is_in_a_post_a_title_or_the_chrome_list(lines: list[str]) -> None:
    text = "\n".join(lines)
    result = split_posts(text, "heuristic")
    previous_end = 0
    for post in result.posts:
        assert previous_end <= post.start < post.end <= len(text)
        assert text[post.start : post.end] == text[post.start : post.end].strip()
        assert 0.0 <= post.confidence <= 1.0
        previous_end = post.end
    kept = {number for number, _ in result.chrome} | {post.line for post in result.posts}
    offset = 0
    for number, line in enumerate(lines, start=1):
        inside = any(post.start <= offset < post.end for post in result.posts)
        assert not line or inside or number in kept, (number, line)
        offset += len(line) + 1
