"""Built-in modules, one package per capability."""
