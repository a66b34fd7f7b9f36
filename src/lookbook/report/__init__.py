"""Report stage: one context built from the rule outputs, rendered to HTML and LaTeX/PDF."""
