// @parley/client/node: what only Node has (files). Kept out of the main entry so that no browser
// bundle meets node: imports.
export { fileOutboxStorage } from "./node/file-outbox-storage";
