"""A bound on what nbgrader keeps of a notebook's output: nbgrader's LimitOutput counts lines only, so one
100 MB line (or image) was stored whole in the executed copy of the notebook."""
import json

from nbformat.v4 import new_output
from nbgrader.preprocessors import LimitOutput
from traitlets import Integer

TRUNCATED = "... output truncated by the grader: it was larger than {:,} characters ...\n"


class BoundedOutput(LimitOutput):
    """LimitOutput, and besides at most `max_chars` characters of outputs per cell (as JSON)."""

    max_chars = Integer(200_000, help="largest size of one cell's outputs, in characters of JSON").tag(config=True)

    @classmethod
    def in_autograde(cls) -> list:
        """nbgrader's autograde preprocessors, with this one in place of LimitOutput."""
        from nbgrader.converters import Autograde
        return [cls if p is LimitOutput else p for p in Autograde.class_traits()["autograde_preprocessors"].default()]

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type != "code":
            return cell, resources
        kept, size = [], 0
        for output in cell.outputs:
            size += len(json.dumps(output))
            if size > self.max_chars:
                if output.output_type == "stream":  # the part that fits is worth reading
                    output.text = output.text[:max(0, self.max_chars - (size - len(json.dumps(output))))]
                    kept.append(output)
                kept.append(new_output("stream", name="stderr", text=TRUNCATED.format(self.max_chars)))
                break
            kept.append(output)
        cell.outputs = kept
        return cell, resources
