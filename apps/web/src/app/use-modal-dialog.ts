import { useEffect, useRef } from "react";

/**
 * A native modal <dialog> shown while `open`: it keeps focus inside, closes on Escape (its `close`
 * event tells the owner) and gives focus back to where it was. On opening, focus goes to the
 * element marked `data-initial-focus`: showModal alone would focus the first control (often Close),
 * and React's autoFocus runs while the dialog is still closed.
 */
export function useModalDialog(open: boolean) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (open && !el.open) {
      el.showModal();
      el.querySelector<HTMLElement>("[data-initial-focus]")?.focus();
    }
    if (!open && el.open) el.close();
  }, [open]);
  return dialog;
}
