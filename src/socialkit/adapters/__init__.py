"""One package per network. Adapters never import each other; each is loaded on first use."""
