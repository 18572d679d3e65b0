import type { ReactNode } from "react";
import { displayName } from "../lib/conversations";
import { Avatar } from "./Avatar";
import { ConnectionPill } from "./Connection";
import { quickSwitcherKeys } from "../lib/keyboard";
import { LogOutIcon, LogoMark, PlusIcon, SearchIcon, ShieldIcon } from "./icons";
import type { User } from "@parley/client";

interface SidebarProps {
  me: User;
  onNewConversation(): void;
  /** Opens the quick switcher: conversations by name and messages by their words. */
  onSearch(): void;
  onSignOut(): void;
  /** Opens the admin page; only given to admins. */
  onAdmin?: () => void;
  children: ReactNode;
}

export function Sidebar({ me, onNewConversation, onSearch, onSignOut, onAdmin, children }: SidebarProps) {
  const shortcut = quickSwitcherKeys(navigator.userAgent);
  return (
    <aside className="sidebar">
      <header className="sidebar__header">
        <div className="brand">
          <LogoMark />
          <h1 className="brand__name">Parley</h1>
        </div>
        <ConnectionPill />
        <button type="button" className="icon-button icon-button--accent" onClick={onNewConversation} title="New conversation">
          <PlusIcon />
          <span className="sr-only">New conversation</span>
        </button>
      </header>
      <button type="button" className="search-launch" aria-haspopup="dialog" aria-keyshortcuts="Control+K Meta+K" onClick={onSearch}>
        <SearchIcon />
        <span className="search-launch__label">
          Search messages<span className="sr-only"> and conversations</span>
        </span>
        <kbd>{shortcut}</kbd>
      </button>
      {children}
      <footer className="sidebar__footer">
        <Avatar id={me.id} name={displayName(me) || "?"} size="sm" />
        <div className="me">
          <span className="me__name">{displayName(me) || "\u00a0"}</span>
          {me.username && <span className="me__username">@{me.username}</span>}
        </div>
        {onAdmin && (
          <button type="button" className="icon-button" onClick={onAdmin} title="Admin">
            <ShieldIcon />
            <span className="sr-only">Admin</span>
          </button>
        )}
        <button type="button" className="icon-button" onClick={onSignOut} title="Log out">
          <LogOutIcon />
          <span className="sr-only">Log out</span>
        </button>
      </footer>
    </aside>
  );
}
