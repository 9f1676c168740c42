;;; augur.el --- augur with eglot (plain completion items) -*- lexical-binding: t; -*-
;; Emacs 29+ ships eglot; on Emacs 28 install it from ELPA. `augur' must be on PATH.
(require 'eglot)
(dolist (mode '(rust-mode rust-ts-mode python-mode python-ts-mode js-mode typescript-mode go-mode))
  (add-to-list 'eglot-server-programs `(,mode . ("augur" "serve" "--stdio"))))
;;; augur.el ends here
