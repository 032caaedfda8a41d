"""The book's sources hold what COURSE.md promises: a full section per activation, summaries, practice links."""
import importlib.util
import re

import nbformat
import pytest
import torch
import yaml

from autograder import course

BOOK = course.REPO / "book"
# Every activation COURSE.md names, by the label of its section in the activations chapter.
ACTIVATION_SECTIONS = ["identity", "step", "sigmoid", "tanh", "relu", "leaky-relu", "prelu", "elu", "selu",
                       "gelu", "swish", "softplus", "softmax", "log-softmax"]
PROPERTIES = ["Range", "Zero-centred", "Monotonic", "Smooth", "Saturates", "Cost", "Used in", "Stable computation"]
CHAPTERS = ["neurons", "forward", "backward", "nonlinearity", "activations", "dynamics", "choosing"]
# Section pages of a chapter (in the toc under it): {section: chapter}.
SECTIONS = {"depth": "dynamics", "diagnostics": "dynamics"}
PAGES = CHAPTERS + list(SECTIONS)
# What a student page must not say: production notes about the machine, the build or a past run. The
# chapters are checked here, and the lab pages in LAB_PAGES.
PRODUCTION_NOTES = [
    r"still to be measured", r"to be measured", r"will be added", r"no GPU was available",
    r"(when|while) this page was (written|made)", r"run made when", r"(an|the) earlier run",
    r"(the|a) previous run", r"latest build", r"test machine", r"\b\d+-core\b", r"shared (CPU|machine)",
    r"(this|our|the course's) (shared )?machine", r"busy with other work", r"cost of this page",
    r"(executing|building) (it|this page|the book) took", r"with PyTorch \d+\.\d+",
]
LAB_PAGES = ["labs/lab_autograd", "labs/lab_dying_relu", "labs/lab_gradient_flow", "labs/lab_shootout", "labs/lab_speed"]
# The notebook behind each Practice target: a link is right when that notebook links the chapter.
PRACTICE_NOTEBOOKS = {"exercise-neuron": "neuron", "exercise-activations": "activations",
                      "exercise-derivatives": "derivatives", "exercise-backprop": "backprop",
                      "lab-autograd": "lab_autograd", "lab-gradient-flow": "lab_gradient_flow",
                      "lab-dying-relu": "lab_dying_relu", "lab-shootout": "lab_shootout", "lab-speed": "lab_speed"}


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


@pytest.mark.parametrize("chapter", PAGES)
def test_every_chapter_ends_with_a_summary_and_links_its_practice(chapter):
    text = (BOOK / f"{chapter}.md").read_text()
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[-2:] == ["Summary", "Practice"], f"{chapter}: ends with {headings[-2:]}"
    practice = text[text.rindex("## Practice"):]
    assert re.search(r"\{(ref|doc)\}`(exercise-|lab-|exercises)", practice), f"{chapter}: Practice links nothing"


@pytest.mark.parametrize("chapter", PAGES)
def test_every_practice_link_leads_to_an_exercise_that_practises_the_chapter(chapter):
    """A Practice link names an exercise or lab whose notebook links back to this chapter (or, for a
    section, to its chapter): the exercise is about what the chapter teaches."""
    practice = (BOOK / f"{chapter}.md").read_text().split("## Practice")[-1]
    targets = re.findall(r"\{ref\}`([\w-]+)`", practice)
    assert targets and "{doc}`exercises`" not in practice, f"{chapter}: link the exercise itself, not the page"
    accepted = {chapter, SECTIONS.get(chapter, chapter)}
    for target in targets:
        assert target in PRACTICE_NOTEBOOKS, f"{chapter}: Practice links {target}, which is not an exercise or lab"
        notebook = course.REPO / "solutions" / PRACTICE_NOTEBOOKS[target] / f"{PRACTICE_NOTEBOOKS[target]}.ipynb"
        linked = set(re.findall(r"book/(\w+)\.md", notebook.read_text()))
        assert linked & accepted, f"{chapter}: {target}'s notebook links {sorted(linked)}, not this chapter"


def code_cells(text):
    """(tags, source) of every code cell of a MyST notebook."""
    for match in re.finditer(r"^```\{code-cell\}[^\n]*\n(.*?)^```$", text, flags=re.M | re.S):
        body = match.group(1)
        tags = re.search(r"^:?tags:\s*\[([^\]]*)\]", body, flags=re.M)
        yield ({tag.strip() for tag in tags.group(1).split(",")} if tags else set()), body


@pytest.mark.parametrize("chapter", PAGES)
def test_chapters_check_their_claims_and_fold_their_set_up(chapter):
    text = (BOOK / f"{chapter}.md").read_text()
    assert re.search(r"^assert ", text, flags=re.M), f"{chapter}: no executed check of a claim"
    assert "use_course_style()" in text, f"{chapter}: figures must share the course style"
    assert ":tags: [remove-input]" in text or "tags: [remove-input]" in text


@pytest.mark.parametrize("chapter", PAGES)
def test_build_checks_sit_in_cells_readers_do_not_see(chapter):
    """Teaching code and build checks apart: a cell that asserts, or glues a number into the prose, is
    removed from the page."""
    shown = [source for tags, source in code_cells((BOOK / f"{chapter}.md").read_text())
             if re.search(r"^\s*(assert\b|glue\()", source, flags=re.M) and not tags & {"remove-cell", "remove-input"}]
    assert shown == [], f"{chapter}: visible cells that check or glue:\n" + "\n---\n".join(s[:300] for s in shown)


@pytest.mark.parametrize("page", PAGES + LAB_PAGES)
def test_student_pages_hold_no_production_notes(page):
    """No machine descriptions, build costs, notes about a past run or promises of numbers to come."""
    text = re.sub(r"\s+", " ", (BOOK / f"{page}.md").read_text())   # a phrase may wrap across lines
    found = [m.group(0) for pattern in PRODUCTION_NOTES for m in re.finditer(pattern, text, flags=re.I)]
    assert found == [], f"{page}: {found}"


@pytest.mark.parametrize("assignment", course.assignments())
def test_student_notebooks_hold_no_production_notes(assignment):
    """The same for the notebooks students receive (the released ones are made from these)."""
    cells = nbformat.read(str(course.source_notebook(assignment)), as_version=4).cells
    text = re.sub(r"\s+", " ", " ".join(c.source for c in cells if c.cell_type == "markdown"))
    found = [m.group(0) for pattern in PRODUCTION_NOTES for m in re.finditer(pattern, text, flags=re.I)]
    assert found == [], f"{assignment}: {found}"


def test_the_production_note_patterns_catch_what_they_are_for():
    notes = ["GPU figures: still to be measured.", "On a CPU the notebook ran on the course's 2-core test machine",
             "from the run made when this page was written, with PyTorch 2.13", "Cost of this page."]
    for note in notes:
        assert any(re.search(pattern, note, flags=re.I) for pattern in PRODUCTION_NOTES), note
    assert not any(re.search(p, "measured on the CPU that built this page", flags=re.I) for p in PRODUCTION_NOTES)


def test_the_notation_is_stated_on_the_first_page():
    intro = (BOOK / "intro.md").read_text()
    notation = intro[intro.index("## Notation"):]
    for symbol in [r"$\mathcal{L}$", "$L$", r"$\ell$", "$z$", "$W$", "$K$"]:
        assert symbol in notation, symbol


def test_every_cited_key_is_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (BOOK / "references.bib").read_text(), flags=re.M))
    cited = set()
    for page in BOOK.rglob("*.md"):
        for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", page.read_text()):
            cited |= {k.strip() for k in group.split(",")}
    assert cited and cited <= keys, sorted(cited - keys)


def test_two_random_inputs_collapse_through_sigmoid_layers_but_not_once_the_sigmoid_is_centred():
    """The instrument the shootout page explains the deep sigmoid network's failure with."""
    spec = importlib.util.spec_from_file_location("_instruments", BOOK / "labs" / "_instruments.py")
    instruments = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(instruments)
    cosine = instruments.representation_cosine
    assert cosine(torch.sigmoid, "xavier") > 0.9999
    assert abs(cosine(lambda z: torch.sigmoid(z) - 0.5, "xavier")) < 0.5
    assert abs(cosine(torch.tanh, "xavier")) < 0.5
    assert cosine(torch.sigmoid, "xavier", depth=1) < 0.95   # one layer does not collapse them yet
