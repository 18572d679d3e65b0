import type { CSSProperties } from "react";
import { avatarHue, initials } from "../lib/conversations";
import { UsersIcon } from "./icons";
import type { PresenceStatus } from "@parley/client";

interface AvatarProps {
  /** Whose: picks the colour. */
  id: string;
  name: string;
  size?: "sm" | "md" | "lg";
  group?: boolean;
  /**
   * Draws a presence dot (none while unknown). Decorative like the avatar: whoever shows it says
   * the status in words too (presenceLabel), for screen readers.
   */
  presence?: PresenceStatus | undefined;
}

/** Initials on a colour that is always the same for the same person. */
export function Avatar({ id, name, size = "md", group = false, presence }: AvatarProps) {
  return (
    <span className={`avatar avatar--${size}`} style={{ "--avatar-hue": avatarHue(id) } as CSSProperties} aria-hidden="true">
      {group ? <UsersIcon /> : initials(name)}
      {presence && <span className={`presence-dot presence-dot--${presence}`} data-presence={presence} />}
    </span>
  );
}
