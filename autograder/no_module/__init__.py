"""Stands in, inside the sandbox, for a package that an assignment may not use (see sandbox.Sandbox)."""
raise ImportError("this package is not available in this assignment: answer it with numpy, as its notebook says")
