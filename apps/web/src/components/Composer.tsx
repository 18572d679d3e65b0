import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore, type ClipboardEvent, type FormEvent, type KeyboardEvent } from "react";
import { useRuntime } from "../app/context";
import { useMediaQuery } from "../app/use-media-query";
import { TOUCH_ONLY_QUERY } from "../lib/keyboard";
import { CloseIcon, FileIcon, PaperclipIcon, SendIcon } from "./icons";
import { insertMention, matchMembers, mentionQueryAt, type MentionQuery } from "../lib/mention-query";
import { MAX_FILES_PER_MESSAGE, MAX_MESSAGE_LENGTH, checkMessage, formatBytes, formatCount, type Attachment, type Member, type PendingUpload, type UploadQueue } from "@parley/client";

interface ComposerProps {
  conversationId: string;
  /** Who the message goes to, for the label. */
  recipient: string;
  autoFocus: boolean;
  /** Take focus now (once), whatever the device: the person just chose this conversation to write in. */
  focusRequested: boolean;
  onFocused(): void;
  /** Who else is typing here ("Lena is typing…"), or null. */
  typingText: string | null;
  /** Up in the empty composer: edit one's last message. */
  onEditLast?(): void;
  /** A thread's composer: replies to this root message. */
  threadId?: string;
  /** The textarea's id (the main composer's is COMPOSER_ID, the skip link's target). */
  inputId?: string;
  /** Who `@` offers to mention (the conversation's members), and the reader, who is left out. */
  members?: readonly Member[];
  myId?: string;
}

/** The composer's id: the skip link's target (there is one composer on screen at most). */
export const COMPOSER_ID = "composer-input";

/** The key of a composer's drafts and uploads: the conversation's, or a thread's of it. */
export function composerKey(conversationId: string, threadId?: string | null): string {
  return threadId ? `${conversationId}/thread/${threadId}` : conversationId;
}

/** Adds files to a composer's uploads; what is said when some did not fit, or null. */
export function attachFiles(uploads: UploadQueue, conversationId: string, threadId: string | null, files: readonly File[]): string | null {
  const refused = uploads.add(composerKey(conversationId, threadId), conversationId, files);
  if (refused === 0) return null;
  return `A message can carry at most ${MAX_FILES_PER_MESSAGE} files: ${refused === 1 ? "1 file was" : `${refused} files were`} left out.`;
}

/** Removes blank lines around the text, keeping any indentation of its first line. */
function tidy(text: string): string {
  return text.replace(/^\s*\n/, "").replace(/\s+$/, "");
}

export function Composer(props: ComposerProps) {
  const { conversationId, recipient, autoFocus, focusRequested, onFocused, typingText, onEditLast, threadId, inputId = COMPOSER_ID, members = [], myId = "" } = props;
  const { drafts, sender, typing, uploads } = useRuntime();
  // A thread keeps its own draft.
  const draftKey = composerKey(conversationId, threadId);
  const allUploads = useSyncExternalStore(uploads.subscribe, () => uploads.getAll());
  const files = useMemo(() => allUploads.filter((u) => u.composer === draftKey), [allUploads, draftKey]);
  const uploading = files.some((u) => u.status === "queued" || u.status === "uploading");
  const uploadFailed = files.some((u) => u.status === "failed");
  // Enter while files upload: the message goes as soon as they are up (the person need not watch the bars).
  const [sendWhenUploaded, setSendWhenUploaded] = useState(false);
  const [fileNotice, setFileNotice] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [text, setText] = useState(() => drafts.get(draftKey) ?? "");
  const textarea = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const check = checkMessage(text);
  // Files need no words.
  const sendable = !check.tooLong && (check.sendable || files.length > 0);
  const touchOnly = useMediaQuery(TOUCH_ONLY_QUERY);

  // The @ autocomplete: the mention being typed at the caret, the people it matches, the one
  // highlighted. Escape dismisses it for that @.
  const [mention, setMention] = useState<MentionQuery | null>(null);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const [active, setActive] = useState(0);
  const options = useMemo(() => (mention ? matchMembers(members, mention.query, myId) : []), [mention, members, myId]);
  const suggesting = mention !== null && mention.start !== dismissedAt && options.length > 0;
  const optionId = (index: number) => `${id}-mention-${index}`;
  const followCaret = (el: HTMLTextAreaElement) => {
    const next = el.selectionStart === el.selectionEnd ? mentionQueryAt(el.value, el.selectionStart) : null;
    setMention((current) => (current?.start === next?.start && current?.query === next?.query ? current : next));
    // The dismissed @ is gone: a new one opens the list again, even in the same place.
    if (next === null) setDismissedAt(null);
    if (next?.start !== mention?.start || next?.query !== mention?.query) setActive(0);
  };
  // Where the caret goes once the text a choice made is on screen: placed in the same commit, before
  // the next keystroke is handled (a frame later, fast typing after Tab landed mid-word).
  const caretAfterChoice = useRef<number | null>(null);
  const choose = (member: Member) => {
    const el = textarea.current;
    if (!el || !mention) return;
    const next = insertMention(text, mention, el.selectionStart, member.username);
    caretAfterChoice.current = next.caret;
    edit(next.text);
    setMention(null);
  };
  useLayoutEffect(() => {
    const el = textarea.current;
    const caret = caretAfterChoice.current;
    if (!el || caret === null) return;
    caretAfterChoice.current = null;
    el.focus();
    el.setSelectionRange(caret, caret);
  });

  useEffect(() => {
    if (autoFocus) textarea.current?.focus();
  }, [autoFocus]);

  useEffect(() => {
    if (!focusRequested) return;
    textarea.current?.focus();
    onFocused();
  }, [focusRequested, onFocused]);

  // Grow with the text, up to a limit, then scroll.
  useLayoutEffect(() => {
    const el = textarea.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  const change = (value: string) => {
    setText(value);
    if (value) drafts.set(draftKey, value);
    else drafts.delete(draftKey);
  };

  // What the person types (not a draft put back) tells the others they are typing.
  const edit = (value: string) => {
    change(value);
    typing.typed(conversationId, value);
  };

  const sendNow = () => {
    const attachments = files.map((u) => u.attachment).filter((a): a is Attachment => a !== null);
    sender.send(conversationId, tidy(text), { ...(threadId ? { threadId } : {}), attachments });
    uploads.clear(draftKey);
    setFileNotice(null);
    typing.stopped(conversationId);
    change("");
  };

  const send = () => {
    if (!sendable) return;
    textarea.current?.focus();
    if (uploadFailed) {
      setFileNotice("Remove the files that could not be uploaded, or attach them again, then send.");
      return;
    }
    if (uploading) {
      setSendWhenUploaded(true);
      return;
    }
    sendNow();
  };

  // The uploads the message waited for are done: it goes now, unless one failed (said on its chip).
  useEffect(() => {
    if (!sendWhenUploaded || uploading) return;
    setSendWhenUploaded(false);
    if (!uploadFailed && sendable) sendNow();
  });

  const addFiles = (chosen: readonly File[]) => {
    if (chosen.length === 0) return;
    setFileNotice(attachFiles(uploads, conversationId, threadId ?? null, chosen));
  };

  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = [...event.clipboardData.files];
    if (pasted.length === 0) return;
    // A copied picture may come with text (its address, a name): the file is what was meant.
    event.preventDefault();
    addFiles(pasted);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggesting) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        setActive((a) => (a + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length);
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && !event.nativeEvent.isComposing) {
        event.preventDefault();
        const chosen = options[Math.min(active, options.length - 1)];
        if (chosen) choose(chosen);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        setDismissedAt(mention.start);
        return;
      }
    }
    if (event.key === "ArrowUp" && text === "" && onEditLast && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      onEditLast();
      return;
    }
    // Enter sends and Shift+Enter is a new line; on a touch-only device Enter is a new line and the
    // Send button sends. Ctrl/Cmd+Enter sends everywhere. Enter that ends an IME composition is neither.
    if (event.key !== "Enter" || event.shiftKey || event.nativeEvent.isComposing) return;
    if (touchOnly && !event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    send();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    send();
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      {suggesting && (
        <ul className="mention-list" id={`${id}-mentions`} role="listbox" aria-label="People to mention">
          {options.map((member, index) => (
            <li
              key={member.id}
              id={optionId(index)}
              role="option"
              aria-selected={index === Math.min(active, options.length - 1)}
              className="mention-list__option"
              // Chosen on mouse down, so the composer keeps focus.
              onMouseDown={(event) => {
                event.preventDefault();
                choose(member);
              }}
            >
              <span>{member.fullName}</span> <span className="mention-list__username">@{member.username}</span>
            </li>
          ))}
        </ul>
      )}
      {files.length > 0 && (
        <ul className="uploads" aria-label="Files to send">
          {files.map((upload) => (
            <UploadChip
              key={upload.key}
              upload={upload}
              onRemove={() => {
                uploads.remove(upload.key);
                setFileNotice(null);
              }}
            />
          ))}
        </ul>
      )}
      <label htmlFor={inputId} className="sr-only">
        {threadId ? `Reply in thread` : `Message to ${recipient}`}
      </label>
      <div className={`composer__box${check.tooLong ? " composer__box--invalid" : ""}`}>
        <button type="button" className="composer__attach" onClick={() => fileInput.current?.click()} title="Attach files (or paste, or drop them here)">
          <PaperclipIcon />
          <span className="sr-only">Attach files</span>
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            addFiles([...(e.target.files ?? [])]);
            // The same file may be chosen again after removing it.
            e.target.value = "";
          }}
        />
        <textarea
          id={inputId}
          ref={textarea}
          rows={1}
          value={text}
          placeholder={threadId ? "Reply…" : `Message ${recipient}`}
          onChange={(e) => {
            edit(e.target.value);
            followCaret(e.target);
          }}
          onSelect={(e) => followCaret(e.currentTarget)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          aria-autocomplete="list"
          aria-controls={suggesting ? `${id}-mentions` : undefined}
          aria-activedescendant={suggesting ? optionId(Math.min(active, options.length - 1)) : undefined}
          enterKeyHint={touchOnly ? "enter" : "send"}
          aria-invalid={check.tooLong || undefined}
          aria-describedby={`${id}-hint`}
        />
        <button
          type="submit"
          className={`composer__send${sendWhenUploaded ? " composer__send--waiting" : ""}`}
          disabled={!sendable}
          title={sendWhenUploaded ? "Sends when the uploads finish" : touchOnly ? "Send" : "Send (Enter)"}
        >
          <SendIcon />
          <span className="sr-only">{sendWhenUploaded ? "Sends when the uploads finish" : "Send"}</span>
        </button>
      </div>
      <div className="composer__hint">
        {/* Always there, so that screen readers hear who starts typing; it replaces the key hint while shown. */}
        <span className="composer__typing" role="status">
          {typingText}
        </span>
        <span id={`${id}-hint`} className="composer__hint-text">
          {fileNotice ? (
            <span className="composer__error" role="alert">
              {fileNotice}
            </span>
          ) : sendWhenUploaded ? (
            <span className="composer__waiting" role="status">
              Sends when the uploads finish.{" "}
              <button type="button" className="link-button" onClick={() => setSendWhenUploaded(false)}>
                Don’t send yet
              </button>
            </span>
          ) : check.tooLong ? (
            <span className="composer__error" role="alert">
              Too long: at most {formatCount(MAX_MESSAGE_LENGTH)} characters.
            </span>
          ) : touchOnly || typingText ? null : (
            <span className="composer__keys">
              <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line{onEditLast && (
                <>
                  {" "}
                  · <kbd>↑</kbd> to edit your last message
                </>
              )}
            </span>
          )}
        </span>
        {check.counter && <span className={`composer__count${check.tooLong ? " composer__count--over" : ""}`}>{check.counter}</span>}
      </div>
    </form>
  );
}

/** A file waiting to go with the message: its name, size and upload progress, and a button that cancels or removes it. */
function UploadChip({ upload, onRemove }: { upload: PendingUpload; onRemove(): void }) {
  const running = upload.status === "queued" || upload.status === "uploading";
  const percent = upload.size > 0 ? Math.min(100, Math.round((upload.sent / upload.size) * 100)) : 100;
  return (
    <li className={`upload upload--${upload.status}`} data-upload-status={upload.status}>
      <span className="upload__icon">
        <FileIcon />
      </span>
      <span className="upload__text">
        <span className="upload__name" title={upload.name}>
          {upload.name}
        </span>
        <span className="upload__meta">
          {upload.status === "failed" ? (
            <span className="upload__error" role="alert">
              {upload.error}
            </span>
          ) : upload.status === "queued" ? (
            `${formatBytes(upload.size)} · waiting…`
          ) : upload.status === "uploading" ? (
            `${formatBytes(upload.sent)} of ${formatBytes(upload.size)}`
          ) : (
            formatBytes(upload.size)
          )}
        </span>
        {running && <progress className="upload__progress" max={100} value={percent} aria-label={`Uploading ${upload.name}`} />}
      </span>
      <button type="button" className="icon-button upload__remove" onClick={onRemove}>
        <CloseIcon />
        <span className="sr-only">{running ? `Cancel upload of ${upload.name}` : `Remove ${upload.name}`}</span>
      </button>
    </li>
  );
}
