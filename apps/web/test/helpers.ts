// Test data shared with @parley/client's own tests.
export { message } from "@parley/client/testing";
