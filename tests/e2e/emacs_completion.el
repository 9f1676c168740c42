;;; emacs_completion.el --- Drives a real Emacs 28 + eglot against augur -*- lexical-binding: t; -*-
;; Emacs has no inline completion, so augur's suggestion comes as a `textDocument/completion' item.
;; Opens $AUGUR_E2E_FILE, connects eglot to $AUGUR_BIN, asks for completions at the end of the
;; buffer (typing one more character of $AUGUR_E2E_TYPE whenever the small model suggests nothing),
;; accepts the suggestion with `completion-at-point', and writes what happened as JSON to
;; $AUGUR_E2E_OUT. Run: emacs --batch -l emacs_completion.el
(require 'eglot)
(require 'json)

(defun augur-e2e-env (name)
  (let ((value (getenv name)))
    (unless (and value (not (string-empty-p value)))
      (error "%s is not set" name))
    value))

(let* ((bin (augur-e2e-env "AUGUR_BIN"))
       (file (augur-e2e-env "AUGUR_E2E_FILE"))
       (out (augur-e2e-env "AUGUR_E2E_OUT"))
       (typing (or (getenv "AUGUR_E2E_TYPE") ""))
       (result (list (cons 'connected :json-false) (cons 'candidates []))))
  (setq eglot-sync-connect 30)
  (add-to-list 'eglot-server-programs `(python-mode . (,bin "serve" "--stdio")))
  (find-file file)
  (goto-char (point-max))
  (push (cons 'before (buffer-string)) result)
  (apply #'eglot (eglot--guess-contact))
  (when (with-timeout (30 nil)
          (while (not (eglot-current-server)) (accept-process-output nil 0.1))
          t)
    (setf (alist-get 'connected result) t)
    (let ((typed 0) (candidates nil))
      (while (and (null candidates) (<= typed (length typing)))
        (let ((capf (eglot-completion-at-point)))
          (setq candidates (and capf (all-completions "" (nth 2 capf)))))
        (when (and (null candidates) (< typed (length typing)))
          (insert (substring typing typed (1+ typed))))
        (setq typed (1+ typed)))
      (setf (alist-get 'candidates result) (vconcat candidates))
      (when candidates
        ;; One AI item: completion-at-point inserts it and applies its text edit.
        (completion-at-point))))
  (push (cons 'after (buffer-string)) result)
  (with-temp-file out (insert (json-encode result)))
  (kill-emacs 0))
;;; emacs_completion.el ends here
