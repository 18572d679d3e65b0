/** True for a unique-constraint violation (Prisma's P2002), whichever provider raised it. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "P2002";
}
