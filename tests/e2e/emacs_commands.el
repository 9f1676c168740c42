;;; emacs_commands.el --- Drives augur.el's commands in a real Emacs + eglot -*- lexical-binding: t; -*-
;; Loads the shipped editors/emacs/augur.el ($AUGUR_EL) with `augur-program' set to $AUGUR_BIN,
;; opens $AUGUR_E2E_FILE, connects eglot through augur.el's registration, runs one command
;; ($AUGUR_E2E_COMMAND) and writes what happened as JSON to $AUGUR_E2E_OUT.
;;
;;   rewrite  selects the first match of $AUGUR_E2E_SELECT and runs `augur-rewrite' on it with
;;            the instruction $AUGUR_E2E_INSTRUCTION;
;;   search   waits until the index answers $AUGUR_E2E_QUERY, runs `augur-search', reads the
;;            *xref* buffer and follows its first hit; also records the errors an empty query
;;            and a buffer without augur give.
;;
;; Run: emacs --batch -l emacs_commands.el
(require 'json)

(defun augur-e2e-env (name)
  (let ((value (getenv name)))
    (unless (and value (not (string-empty-p value)))
      (error "%s is not set" name))
    value))

(defun augur-e2e-user-error (thunk)
  "The message of the `user-error' THUNK signals, or nil."
  (condition-case err
      (progn (funcall thunk) nil)
    (user-error (cadr err))))

(let* ((out (augur-e2e-env "AUGUR_E2E_OUT"))
       (command (augur-e2e-env "AUGUR_E2E_COMMAND"))
       (result (list (cons 'connected :json-false))))
  (condition-case err
      (progn
        (load (augur-e2e-env "AUGUR_EL") nil t)
        (setq augur-program (augur-e2e-env "AUGUR_BIN"))
        (setq eglot-sync-connect 30)
        (find-file (augur-e2e-env "AUGUR_E2E_FILE"))
        (push (cons 'language_id
                    (cadr (eglot--lookup-mode major-mode)))
              result)
        (apply #'eglot (eglot--guess-contact))
        (when (with-timeout (30 nil)
                (while (not (eglot-current-server)) (accept-process-output nil 0.1))
                t)
          (setf (alist-get 'connected result) t)
          (pcase command
            ("rewrite"
             (goto-char (point-min))
             (search-forward (augur-e2e-env "AUGUR_E2E_SELECT"))
             (let* ((end (point))
                    (beg (match-beginning 0))
                    (answer (augur-rewrite beg end (augur-e2e-env "AUGUR_E2E_INSTRUCTION"))))
               (push (cons 'status (plist-get answer :status)) result)
               (push (cons 'message (plist-get answer :message)) result)
               (push (cons 'after (buffer-substring-no-properties (point-min) (point-max)))
                     result)))
            ("search"
             (let* ((query (augur-e2e-env "AUGUR_E2E_QUERY"))
                    (server (eglot-current-server))
                    (ready (with-timeout (60 nil)
                             (while (seq-empty-p
                                     (jsonrpc-request server :augur/search (list :query query)))
                               (sleep-for 0.2))
                             t)))
               (push (cons 'index_ready (if ready t :json-false)) result)
               (push (cons 'empty_query_error
                           (augur-e2e-user-error (lambda () (augur-search "  "))))
                     result)
               (push (cons 'no_server_error
                           (with-temp-buffer
                             (augur-e2e-user-error (lambda () (augur-search query)))))
                     result)
               (let ((hits (augur-search query)))
                 (push (cons 'hits (length hits)) result))
               (push (cons 'xref (with-current-buffer "*xref*"
                                   (buffer-substring-no-properties (point-min) (point-max))))
                     result)
               ;; Follow the first hit as RET in *xref* would: it visits the file at the hit.
               (let ((visited (with-current-buffer "*xref*"
                                (goto-char (point-min))
                                (xref-next-line)
                                (xref-goto-xref)
                                (list buffer-file-name
                                      (line-number-at-pos)
                                      (buffer-substring-no-properties (line-beginning-position)
                                                                      (line-end-position))))))
                 (push (cons 'visited_file (nth 0 visited)) result)
                 (push (cons 'visited_line (nth 1 visited)) result)
                 (push (cons 'visited_text (nth 2 visited)) result))))
            (_ (error "unknown AUGUR_E2E_COMMAND %s" command)))))
    (error (push (cons 'error (error-message-string err)) result)))
  (with-temp-file out (insert (json-encode result)))
  (kill-emacs 0))
;;; emacs_commands.el ends here
