"""The operations of the graph, one concept per module; each op's forward and backward sit
side by side in its `Function` class."""
