; Sections of Markdown, named by their heading.
(section (atx_heading heading_content: (_) @name)) @definition.module
(section (setext_heading heading_content: (_) @name)) @definition.module
