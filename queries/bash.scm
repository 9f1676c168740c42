; Symbols and imports of Bash.
(function_definition name: (word) @name) @definition.function
((command name: (command_name (word) @command)) @import
  (#any-of? @command "source" "."))
