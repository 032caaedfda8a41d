"""The book's sources hold what COURSE.md promises: a full section per activation, summaries, practice links."""
import re

import pytest
import yaml

from autograder import course

BOOK = course.REPO / "book"
# Every activation COURSE.md names, by the label of its section in the activations chapter.
ACTIVATION_SECTIONS = ["identity", "step", "sigmoid", "tanh", "relu", "leaky-relu", "prelu", "elu", "selu",
                       "gelu", "swish", "softplus", "softmax", "log-softmax"]
PROPERTIES = ["Range", "Zero-centred", "Monotonic", "Smooth", "Saturates", "Cost", "Used in", "Stable computation"]
CHAPTERS = ["neurons", "forward", "backward", "nonlinearity", "activations", "dynamics", "choosing"]


def section(text, label):
    """The text of the section that follows `(label)=`, up to the next level-2 heading's label or heading."""
    start = text.index(f"({label})=")
    rest = text[start + len(label) + 3:]
    heading = rest.index("\n## ")
    end = re.search(r"\n(\(sec-[\w-]+\)=\n)?## ", rest[heading + 1:])
    return rest[: heading + 1 + end.start()] if end else rest


@pytest.mark.parametrize("name", ACTIVATION_SECTIONS)
def test_every_activation_has_a_section_with_formula_figure_and_properties(name):
    text = (BOOK / "activations.md").read_text()
    assert f"(sec-{name})=" in text, f"no section labelled sec-{name}"
    body = section(text, f"sec-{name}")
    assert body.count("$$") >= 2, f"sec-{name}: no display formula"
    assert re.search(r"mystnb:\s*\n\s*figure:\s*\n\s*caption: \S", body), f"sec-{name}: no captioned figure"
    assert re.search(r"image:\s*\n\s*alt: \S.{20,}", body), f"sec-{name}: its figure has no alt text"
    missing = [p for p in PROPERTIES if f"**{p}**" not in body]
    assert missing == [], f"sec-{name} lacks {missing}"
    assert "{cite:" in body, f"sec-{name} cites no paper"


def test_the_toc_lists_the_chapters_in_course_order_as_numbered_parts():
    toc = yaml.safe_load((course.REPO / "_toc.yml").read_text())
    numbered = [ch["file"] for part in toc["parts"] if part.get("numbered") for ch in part["chapters"]]
    assert numbered == [f"book/{c}" for c in CHAPTERS]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_ends_with_a_summary_and_links_its_practice(chapter):
    text = (BOOK / f"{chapter}.md").read_text()
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[-2:] == ["Summary", "Practice"], f"{chapter}: ends with {headings[-2:]}"
    practice = text[text.rindex("## Practice"):]
    assert re.search(r"\{(ref|doc)\}`(exercise-|lab-|exercises)", practice), f"{chapter}: Practice links nothing"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapters_check_their_claims_and_fold_their_set_up(chapter):
    text = (BOOK / f"{chapter}.md").read_text()
    assert re.search(r"^assert ", text, flags=re.M), f"{chapter}: no executed check of a claim"
    assert "use_course_style()" in text, f"{chapter}: figures must share the course style"
    assert ":tags: [remove-input]" in text or "tags: [remove-input]" in text


def test_every_cited_key_is_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (BOOK / "references.bib").read_text(), flags=re.M))
    cited = set()
    for page in BOOK.rglob("*.md"):
        for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", page.read_text()):
            cited |= {k.strip() for k in group.split(",")}
    assert cited and cited <= keys, sorted(cited - keys)
