//! AI code actions (placeholder while the module is written).
