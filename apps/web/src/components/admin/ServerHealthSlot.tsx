// INTEGRATION POINT: "server health at a glance" (issue 15). The metrics work (/metrics) lands on
// another branch; whoever integrates it renders its summary inside this panel, which is already
// placed first on the admin page and styled. Nothing here reads metrics yet.
export function ServerHealthSlot() {
  return (
    <section className="admin__panel admin__health" aria-labelledby="admin-health-title" data-integration="server-health">
      <h3 id="admin-health-title">Server health</h3>
      <p className="admin__muted">Server health at a glance will appear here.</p>
    </section>
  );
}
