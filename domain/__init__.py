"""Pure rules of tiergate: catalog, pricing, routing, budgets. Standard library only, no I/O."""
