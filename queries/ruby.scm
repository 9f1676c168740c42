; Symbols and imports of Ruby.
(class name: (_) @name) @definition.class
(module name: (_) @name) @definition.module
(method name: (_) @name) @definition.method
(singleton_method name: (_) @name) @definition.method
(assignment left: (constant) @name) @definition.constant
((call method: (identifier) @method) @import
  (#any-of? @method "require" "require_relative" "load"))
