/* VMem Lab — the live run page (an ES module), one module per concern in run/:
 *   schema.js    the wire vocabulary (generated from vmemsite/runs/frames.py)
 *   page.js      the page's elements, the run's meta and the shared live state
 *   format.js    numbers and text
 *   charts.js    the charts, line by field of the points
 *   zoom.js      full-resolution windows fetched in pages on zoom
 *   summary.js   counters, the comparison table, a run's result
 *   events.js    the notable events, with a filter by series
 *   controls.js  status, progress, pause/step/stop/speed
 *   protocol.js  the websocket: state (in parts), frames, gaps, resync
 */

import { setStatus, wireControls } from "./run/controls.js";
import { connect, resync } from "./run/protocol.js";
import { meta, root, state } from "./run/page.js";

if (root) {
  wireControls();
  setStatus({ status: meta.status, speed: meta.speed, progress: meta.progress,
              accesses: meta.accesses, total: meta.total });
  if ("WebSocket" in window) {
    connect();
  } else {
    resync();
  }
  window.vmemRun = { state, meta, resync };
}
