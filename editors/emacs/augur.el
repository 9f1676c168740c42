;;; augur.el --- augur, an AI language server, with eglot -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9"))
;; Keywords: tools, languages, convenience
;; SPDX-License-Identifier: MIT

;;; Commentary:

;; augur answers eglot with completion items (Emacs has no inline ghost text), AI code actions
;; (`eglot-code-actions'), and two commands of its own:
;;
;;   M-x augur-rewrite   rewrite the region as you say ("use a list comprehension");
;;   M-x augur-search    search the workspace index; the hits open in an *xref* buffer.
;;
;; Loading this file registers augur with eglot for every language augur supports (or those in
;; `augur-languages'); `M-x eglot' in such a buffer starts it.  Both commands only send augur's
;; protocol (`workspace/executeCommand' with `augur.rewrite', and `augur/search'); the work is
;; the server's.  See editors/emacs/README.md.

;;; Code:

(require 'eglot)
(require 'jsonrpc)
(require 'seq)
(require 'subr-x)
(require 'xref)

(defgroup augur nil
  "augur, an AI language server, with eglot."
  :group 'tools
  :prefix "augur-")

(defcustom augur-program "augur"
  "The augur binary: a name looked up on `exec-path', or a full path."
  :type 'string)

(defcustom augur-program-args '("serve" "--stdio")
  "The arguments augur is started with."
  :type '(repeat string))

(defconst augur--language-modes
  '(("rust" rust-mode rust-ts-mode)
    ("python" python-mode python-ts-mode)
    ("javascript" js-mode js-ts-mode js2-mode rjsx-mode)
    ("typescript" typescript-mode typescript-ts-mode)
    ("typescriptreact" tsx-ts-mode)
    ("go" go-mode go-ts-mode)
    ("java" java-mode java-ts-mode)
    ("c" c-mode c-ts-mode)
    ("cpp" c++-mode c++-ts-mode)
    ("csharp" csharp-mode csharp-ts-mode)
    ("ruby" ruby-mode ruby-ts-mode enh-ruby-mode)
    ("php" php-mode php-ts-mode)
    ("shellscript" sh-mode bash-ts-mode)
    ("lua" lua-mode lua-ts-mode)
    ("json" json-mode json-ts-mode js-json-mode)
    ("toml" toml-mode toml-ts-mode conf-toml-mode)
    ("yaml" yaml-mode yaml-ts-mode)
    ("html" html-mode mhtml-mode html-ts-mode web-mode)
    ("css" css-mode css-ts-mode)
    ("markdown" markdown-mode gfm-mode markdown-ts-mode))
  "The LSP language ids augur supports, each with its major modes.")

(defcustom augur-languages (mapcar #'car augur--language-modes)
  "The languages (LSP language ids) to register augur with eglot for.
Set it before this file is loaded, or call `augur-eglot-setup' after
changing it.  eglot runs one server per language in a project, so each
language you edit in a project starts its own augur."
  :type '(repeat string))

(defcustom augur-search-limit 50
  "The most hits `augur-search' asks for (augur caps it at 200)."
  :type 'integer)

(defcustom augur-request-timeout 120
  "Seconds to wait for augur to answer (a rewrite waits for the model)."
  :type 'number)

(defcustom augur-confirm-rewrites nil
  "Whether to ask before `augur-rewrite' applies augur's edit.
The edit only replaces the region you chose; set this to `confirm' to
be asked anyway."
  :type '(choice (const :tag "Apply" nil) (const :tag "Ask" confirm)))

(defvar augur-rewrite-history nil "Instructions given to `augur-rewrite'.")
(defvar augur-search-history nil "Queries given to `augur-search'.")

;; Declared special so that binding it reaches eglot's `workspace/applyEdit' handler.
(defvar eglot-confirm-server-initiated-edits)

(defun augur--contact (&rest _)
  "The command eglot starts augur with, read when the server starts."
  (cons augur-program augur-program-args))

(defun augur-eglot-setup ()
  "Register augur with eglot for the major modes of `augur-languages'.
Each language is one entry of `eglot-server-programs' that names its
language id, so the modes of a language share one augur and send the
id augur knows."
  (interactive)
  (dolist (entry (reverse augur--language-modes))
    (when (member (car entry) augur-languages)
      (let ((modes (mapcar (lambda (mode) (list mode :language-id (car entry)))
                           (cdr entry))))
        (setq eglot-server-programs
              (cons (cons modes #'augur--contact)
                    (seq-remove (lambda (program) (equal (car program) modes))
                                eglot-server-programs)))))))

(defun augur--server ()
  "The augur server of this buffer, or a `user-error' saying what to do."
  (let ((server (eglot-current-server)))
    (unless server
      (user-error "augur: eglot is not connected in this buffer; start augur with M-x eglot"))
    (let ((name (plist-get (eglot--server-info server) :name)))
      (when (and name (not (equal name "augur")))
        (user-error "augur: this buffer's language server is %s, not augur" name)))
    server))

(defun augur--path (uri)
  "The file name of a file URI."
  (if (fboundp 'eglot-uri-to-path)
      (eglot-uri-to-path uri)
    (eglot--uri-to-path uri)))

(defun augur--send-pending-changes ()
  "Send eglot's pending `didChange', so augur has the text on screen."
  (when (fboundp 'eglot--signal-textDocument/didChange)
    (eglot--signal-textDocument/didChange)))

;;;###autoload
(defun augur-rewrite (beg end instruction)
  "Rewrite the text from BEG to END as INSTRUCTION says, with augur's model.
Interactively, the region and an instruction read from the minibuffer.  augur
sends the edit back with `workspace/applyEdit' (refused if the buffer changed in
the meantime).  Returns augur's answer, a plist with :status and :message."
  (interactive
   (if (use-region-p)
       (list (region-beginning) (region-end)
             (read-string "Rewrite with AI: " nil 'augur-rewrite-history))
     (user-error "augur-rewrite: select the code to rewrite first")))
  (when (string-empty-p (string-trim instruction))
    (user-error "augur-rewrite: say what to change"))
  (let ((server (augur--server)))
    (augur--send-pending-changes)
    (let* ((args (list :uri (plist-get (eglot--TextDocumentIdentifier) :uri)
                       :range (list :start (eglot--pos-to-lsp-position beg)
                                    :end (eglot--pos-to-lsp-position end))
                       :instruction instruction
                       :version eglot--versioned-identifier))
           (answer (progn
                     (message "augur: rewriting...")
                     ;; The edit comes back as a `workspace/applyEdit' request while we wait.
                     (let ((eglot-confirm-server-initiated-edits augur-confirm-rewrites))
                       (jsonrpc-request server :workspace/executeCommand
                                        (list :command "augur.rewrite" :arguments (vector args))
                                        :timeout augur-request-timeout))))
           (status (plist-get answer :status)))
      (message "augur: %s" (if (equal status "applied")
                               "rewritten"
                             (or (plist-get answer :message) status)))
      answer)))

(defun augur--hit-xref (hit)
  "An xref item for one `augur/search' HIT."
  (let* ((start (plist-get (plist-get hit :range) :start))
         (kind (plist-get hit :kind))
         (name (plist-get hit :name))
         (container (plist-get hit :container))
         (snippet (string-trim (or (car (seq-remove #'string-blank-p
                                                    (split-string (or (plist-get hit :snippet) "")
                                                                  "\n")))
                                   "")))
         (summary (concat (propertize (or kind "code") 'face 'font-lock-keyword-face)
                          (if (string-empty-p (or name "")) "" (concat " " name))
                          (if container (format " (in %s)" container) "")
                          (if (string-empty-p snippet) "" (concat ": " snippet)))))
    (xref-make summary
               (xref-make-file-location (augur--path (plist-get hit :uri))
                                        (1+ (plist-get start :line))
                                        (plist-get start :character)))))

;;;###autoload
(defun augur-search (query)
  "Search the workspace index for QUERY; list the hits, best first, in *xref*.
Interactively, QUERY is read from the minibuffer (the symbol at point by
default).  Returns the hits."
  (interactive
   (let ((default (thing-at-point 'symbol t)))
     (list (read-string (if default
                            (format "Search the workspace (default %s): " default)
                          "Search the workspace: ")
                        nil 'augur-search-history default))))
  (when (string-empty-p (string-trim query))
    (user-error "augur-search: say what to look for"))
  (let* ((server (augur--server))
         (hits (jsonrpc-request server :augur/search
                                (list :query query :limit augur-search-limit)
                                :timeout augur-request-timeout)))
    (if (seq-empty-p hits)
        (message "augur: nothing in the index matches %S" query)
      (let ((items (mapcar #'augur--hit-xref hits)))
        (xref-show-xrefs (lambda () items) nil)))
    hits))

(augur-eglot-setup)

(provide 'augur)
;;; augur.el ends here
