"""Request and response models: `XCreate` / `XUpdate` in, `XRead` out, one module a family."""
