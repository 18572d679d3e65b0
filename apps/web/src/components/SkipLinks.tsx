import type { MouseEvent } from "react";
import { COMPOSER_ID } from "./Composer";
import { MESSAGES_ID } from "./MessageList";

/**
 * The first thing Tab reaches: links past the sidebar to the open conversation's composer or
 * history, or to the conversation list. Focus is moved by hand: the URL's hash is the app's route,
 * so following `#composer-input` would navigate.
 */
export function SkipLinks({ conversationOpen }: { conversationOpen: boolean }) {
  const skipTo = (target: () => HTMLElement | null | undefined) => (event: MouseEvent<HTMLAnchorElement>) => {
    event.preventDefault();
    target()?.focus();
  };
  const byId = (id: string) => () => document.getElementById(id);
  // The list's one Tab stop (roving focus), else the list itself.
  const list = () => document.querySelector<HTMLElement>('.conv-list a[tabindex="0"]') ?? document.querySelector<HTMLElement>(".conversations");
  return (
    <div className="skip-links">
      {conversationOpen ? (
        <>
          <a className="skip-link" href={`#${COMPOSER_ID}`} onClick={skipTo(byId(COMPOSER_ID))}>
            Skip to composer
          </a>
          <a className="skip-link" href={`#${MESSAGES_ID}`} onClick={skipTo(byId(MESSAGES_ID))}>
            Skip to messages
          </a>
        </>
      ) : (
        <a className="skip-link" href="#conversations" onClick={skipTo(list)}>
          Skip to conversations
        </a>
      )}
    </div>
  );
}
