"""The dashboard under `/_mock/ui/`: requests live, contexts and their conversations, agents,
and actions that go through the control API.

On with `wacht-mock serve --dashboard` (which turns the control API on too): every page and the
live feed need the signed-in cookie (`.session`) and answer 401 without it; only loopback
clients are served unless `dashboard_remote` says otherwise. The stylesheet, script and icon are
package data, served with a strict Content-Security-Policy (scripts from the server only, nothing
inline), and they hold no data: they need no sign-in.
"""
