import { useEffect, useRef, type RefObject, type SyntheticEvent } from "react";

export interface ModalDialogProps {
  ref: RefObject<HTMLDialogElement | null>;
  onCancel(event: SyntheticEvent<HTMLDialogElement>): void;
  onClose(event: SyntheticEvent<HTMLDialogElement>): void;
}

/**
 * A native modal <dialog> shown while `open`, as props to spread on it: it keeps focus inside,
 * closes on Escape (telling the owner through `onClosed`) and gives focus back to where it was. On
 * opening, focus goes to the element marked `data-initial-focus`: showModal alone would focus the
 * first control (often Close), and React's autoFocus runs while the dialog is still closed.
 *
 * The browser fires `close` as a queued task, after the dialog has closed: under load a person can
 * act in between (Escape, then Enter on the button that opens it again), and the late event would
 * then close what they just opened, or their reopening would find `open` still true and do nothing.
 * So Escape tells the owner at once (`cancel` fires before the dialog closes), and a `close` event
 * counts only if the dialog is still closed when it arrives.
 */
export function useModalDialog(open: boolean, onClosed: () => void): ModalDialogProps {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (open && !el.open) {
      el.showModal();
      el.querySelector<HTMLElement>("[data-initial-focus]")?.focus();
    }
    if (!open && el.open) el.close();
  }, [open]);
  return {
    ref,
    onCancel: () => onClosed(),
    onClose: (event) => {
      if (!event.currentTarget.open) onClosed();
    },
  };
}
