// What a person does to a stored message: edit their own (in place, Enter saves, Escape cancels),
// delete (their own, or anyone's in a group they own) after a confirmation. The result arrives
// through the feed (message.updated), so every tab and person sees it the same way.
import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import { useModalDialog } from "../app/use-modal-dialog";
import { lastEditableIndex } from "../lib/message-groups";
import { trpc } from "../trpc";
import { checkMessage, describeError, type Message, type TimelineItem } from "@parley/client";

/**
 * Which message of a list is being edited in place (by its Edit button, or Up in the list's empty
 * composer), and which one is to be deleted (its dialog open). The editor closes with focus back where the edit started: the composer (`composerId`) when
 * it was opened with Up there, else the message's Edit button.
 */
export function useEditAndDelete(composerId: string) {
  const [editing, setEditing] = useState<{ id: string; fromComposer: boolean } | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const startEdit = useCallback((id: string, fromComposer = false) => setEditing({ id, fromComposer }), []);
  const endEdit = useCallback(() => {
    setEditing((current) => {
      if (current) {
        // After the row has re-rendered without the editor.
        requestAnimationFrame(() => {
          const target = current.fromComposer
            ? document.getElementById(composerId)
            : document.querySelector<HTMLElement>(`[data-message-id="${current.id}"] .msg__action--edit`);
          target?.focus();
        });
      }
      return null;
    });
  }, [composerId]);
  // Up in the empty composer (`composerId`): the reader's last message of the list, edited in place.
  // Returns its index in `items` (a virtualized list scrolls it into view), or -1 when there is none.
  const editLast = useCallback(
    (items: readonly TimelineItem[], myId: string) => {
      const index = lastEditableIndex(items, myId);
      const target = items[index]?.message;
      if (!target) return -1;
      startEdit(target.id, true);
      return index;
    },
    [startEdit],
  );
  return { editingId: editing?.id ?? null, startEdit, endEdit, editLast, deleting, setDeleting };
}

interface MessageEditorProps {
  message: Message;
  /** The editor is done (saved, cancelled or unchanged). */
  onDone(): void;
}

/** Edits one's own message in place: Enter saves, Shift+Enter is a new line, Escape cancels. */
export function MessageEditor({ message, onDone }: MessageEditorProps) {
  const [text, setText] = useState(message.content);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const edit = trpc.message.edit.useMutation();
  const check = checkMessage(text);
  // A message with files may lose its words (as it could be sent without any).
  const hasFiles = message.attachments.length > 0;
  const savable = check.sendable || (hasFiles && !check.tooLong);

  useEffect(() => {
    const el = textarea.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  useLayoutEffect(() => {
    const el = textarea.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  }, [text]);

  const save = () => {
    const content = text.trim();
    if (content === message.content.trim()) return onDone();
    if (!savable || edit.isPending) return;
    edit.mutate({ messageId: message.id, content }, { onSuccess: onDone });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Escape") {
      // Only the editor closes, not a dialog or panel around it.
      event.preventDefault();
      event.stopPropagation();
      onDone();
    } else if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      save();
    }
  };

  return (
    <div className="msg__editor">
      <label htmlFor={id} className="sr-only">
        Edit message
      </label>
      <textarea
        id={id}
        ref={textarea}
        className="msg__editor-input"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={`${id}-hint`}
        aria-invalid={check.tooLong || undefined}
      />
      <div className="msg__editor-bar">
        <span id={`${id}-hint`} className="msg__editor-hint">
          <kbd>Enter</kbd> to save · <kbd>Escape</kbd> to cancel
        </span>
        <button type="button" className="link-button link-button--muted" onClick={onDone}>
          Cancel
        </button>
        <button type="button" className="link-button" onClick={save} disabled={!savable || edit.isPending}>
          {edit.isPending ? "Saving…" : "Save"}
        </button>
      </div>
      {edit.isError && (
        <p className="msg__editor-error" role="alert">
          {describeError(edit.error)}
        </p>
      )}
    </div>
  );
}

interface DeleteMessageDialogProps {
  /** The message to delete; null: the dialog is closed. */
  message: Message | null;
  /** Someone else's message (deleted as the group's owner). */
  othersName: string | null;
  /** Where focus goes once deleted (its Delete button goes with the message's text): a composer's id. */
  focusAfterId: string;
  onClose(): void;
}

/** Asks before deleting: a deleted message is gone for everyone, and cannot be brought back. */
export function DeleteMessageDialog({ message, othersName, focusAfterId, onClose }: DeleteMessageDialogProps) {
  const open = message !== null;
  const dialog = useModalDialog(open, onClose);
  const headingId = useId();
  const remove = trpc.message.delete.useMutation();
  const { reset } = remove;
  useEffect(() => {
    if (open) reset();
  }, [open, reset]);

  const confirm = () => {
    if (!message || remove.isPending) return;
    remove.mutate(
      { messageId: message.id },
      {
        onSuccess: () => {
          onClose();
          // After the dialog has given focus back to the button that is about to go.
          requestAnimationFrame(() => document.getElementById(focusAfterId)?.focus());
        },
      },
    );
  };

  return (
    <dialog {...dialog} className="dialog dialog--confirm" aria-labelledby={headingId} aria-describedby={`${headingId}-what`}>
      {open && (
        <div className="dialog__form">
          <header className="dialog__header">
            <h2 id={headingId}>Delete message?</h2>
          </header>
          <p className="dialog__intro" id={`${headingId}-what`}>
            {othersName ? `This deletes ${othersName}’s message for everyone.` : "This deletes your message for everyone."} It cannot be undone.
          </p>
          {remove.isError && (
            <p className="dialog__error" role="alert">
              {describeError(remove.error)}
            </p>
          )}
          <footer className="dialog__footer">
            <button type="button" className="button" onClick={onClose} data-initial-focus>
              Cancel
            </button>
            <button type="button" className="button button--danger" onClick={confirm} disabled={remove.isPending}>
              {remove.isPending ? "Deleting…" : "Delete"}
            </button>
          </footer>
        </div>
      )}
    </dialog>
  );
}
