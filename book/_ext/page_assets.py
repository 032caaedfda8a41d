"""What each page of the book loads: only what it uses, each thing once.

A local Sphinx extension (_config.yml's ``local_extensions``). It
- drops the theme's 1.5 MB Font Awesome script: the theme's stylesheet already draws its icons with the
  Font Awesome web font, so the script only duplicated them as inline SVG;
- loads each script once: Jupyter Book sets sphinx-thebe and sphinx-togglebutton up twice, which put their
  inline scripts on every page twice (``const THEBE_JS_URL`` declared twice is a SyntaxError in the console);
- adds the book's own stylesheet (book/_static/layout.css: column widths, scrolling cues, phones);
- offers each executed chapter as a notebook in the download menu (the theme only does when a launch
  button is configured), and marks the menu's links as downloads, so a browser saves rather than shows them;
- loads sphinx-design's and sphinx-thebe's files only on pages that use them (none does today);
- keeps, of the theme stylesheet's 1,900 Font Awesome icon rules (86 kB), those the built pages use;
- leaves no source maps in the built book (3 MB that no reader loads).
Together with MathJax without its context menu (_config.yml) a page loads under 2 MB besides its images.
"""
import re
import shutil
from pathlib import Path

import pydata_sphinx_theme

FONT_AWESOME_SCRIPT = re.compile(r"\s*<script[^>]*scripts/fontawesome\.js[^>]*></script>")
SOURCE_MAP_COMMENT = re.compile(rb"\n?(//# sourceMappingURL=\S+|/\*# sourceMappingURL=\S+ \*/)\s*$")


def override_theme_macros(app, config):
    """A copy of the theme's asset macros without the icon script, found before the theme's own."""
    theme = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
    macros = (theme / "static" / "webpack-macros.html").read_text(encoding="utf-8")
    templates = Path(app.doctreedir).parent / "page-assets-templates"
    (templates / "static").mkdir(parents=True, exist_ok=True)
    (templates / "static" / "webpack-macros.html").write_text(FONT_AWESOME_SCRIPT.sub("", macros), encoding="utf-8")
    config.templates_path = [str(templates), *config.templates_path]
    # without a default, the theme's script logs "Got invalid theme mode" on a reader's first visit
    config.html_context.setdefault("default_mode", "auto")


def used_by(app, body, asset):
    """False for the files of an extension that this page does not use: sphinx-design's without its
    components in the page, sphinx-thebe's unless _config.yml turns on its launch button."""
    attributes = getattr(asset, "attributes", {})
    name = str(getattr(asset, "filename", None) or attributes.get("body", "") or asset).lower()
    if "design" in name:
        return 'class="sd-' in body or " sd-" in body
    if "thebe" in name:
        return bool(app.config.html_theme_options.get("launch_buttons", {}).get("thebe"))
    return True


def load_each_script_once(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    context["css_files"] = [css for css in context.get("css_files", []) if used_by(app, body, css)]
    seen, scripts = set(), []
    for script in context.get("script_files", []):
        # the same file or inline body, whatever the priority each copy was added with
        key = (getattr(script, "filename", str(script)) or None,  # an inline script's is None or ""
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen and used_by(app, body, script):
            seen.add(key)
            scripts.append(script)
    context["script_files"] = scripts


def offer_the_executed_notebook(app, pagename, templatename, context, doctree):
    """Before the theme builds its download menu (priority 501): copy the notebook myst-nb executed."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if executed.is_file():
        target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(executed, target)
        context["ipynb_source"] = f"{pagename}.ipynb"


SAVE_DOWNLOADS = """document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll(".dropdown-download-buttons a.dropdown-item")) {
    link.setAttribute("download", "");
  }
});"""


def drop_source_maps(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    for source_map in static.rglob("*.map"):
        source_map.unlink()
    for asset in [*static.rglob("*.js"), *static.rglob("*.css")]:
        text = asset.read_bytes()
        stripped = SOURCE_MAP_COMMENT.sub(b"\n", text)
        if stripped != text:
            asset.write_bytes(stripped)
    (static / "scripts" / "fontawesome.js").unlink(missing_ok=True)
    keep_used_icons(Path(app.outdir))


ICON_RULE = re.compile(r"((?:\.fa-[\w-]+:(?:before|after),?)+)\{content:([^}]*)\}")


def keep_used_icons(outdir):
    """Drop the theme stylesheet's rules for icons that no page or script of the book names."""
    used = set()
    for path in [*outdir.rglob("*.html"), *outdir.rglob("*.js")]:
        used.update(re.findall(r"fa-[\w-]+", path.read_text(encoding="utf-8", errors="ignore")))
    for stylesheet in (outdir / "_static" / "styles").glob("pydata-sphinx-theme.css"):
        def keep(rule):
            selectors = [s for s in rule.group(1).split(",") if s and s[1:].split(":")[0] in used]
            return ",".join(selectors) + "{content:" + rule.group(2) + "}" if selectors else ""
        stylesheet.write_text(ICON_RULE.sub(keep, stylesheet.read_text(encoding="utf-8")), encoding="utf-8")


def setup(app):
    app.connect("config-inited", override_theme_macros)
    app.connect("html-page-context", load_each_script_once, priority=900)
    app.connect("build-finished", drop_source_maps)
    app.connect("html-page-context", offer_the_executed_notebook, priority=400)
    app.add_css_file("layout.css")
    app.add_js_file(None, body=SAVE_DOWNLOADS)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
