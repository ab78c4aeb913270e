"""Phase diagrams, in one place: ``plan`` (how a diagram fans out into learning-curve parts),
``submit`` (the fan-out over RQ dependencies), ``assemble`` (gathering the parts into the grid),
``gain`` (the gain and its zero boundary) and ``catalogue`` (the computed diagrams, filterable)."""
