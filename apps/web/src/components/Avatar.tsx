import type { CSSProperties } from "react";
import { avatarHue, initials } from "../lib/conversations";
import { UsersIcon } from "./icons";

interface AvatarProps {
  /** Whose: picks the colour. */
  id: string;
  name: string;
  size?: "sm" | "md" | "lg";
  group?: boolean;
}

/** Initials on a colour that is always the same for the same person. */
export function Avatar({ id, name, size = "md", group = false }: AvatarProps) {
  return (
    <span className={`avatar avatar--${size}`} style={{ "--avatar-hue": avatarHue(id) } as CSSProperties} aria-hidden="true">
      {group ? <UsersIcon /> : initials(name)}
    </span>
  );
}
