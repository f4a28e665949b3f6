/* VMem Lab run page — numbers and text as people read them. */

const nf = new Intl.NumberFormat("en-US");
export const fmt = (n) => (n === null || n === undefined || Number.isNaN(n) ? "–" : nf.format(n));
export const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %");
export const ms = (x) => {
  if (x === null || x === undefined) return "–";
  if (x >= 60000) return (x / 60000).toFixed(1) + " min";
  if (x >= 1000) return (x / 1000).toFixed(2) + " s";
  return x.toFixed(x < 10 ? 2 : 1) + " ms";
};
export const duration = (s) => {
  if (s === null || s === undefined || !isFinite(s)) return "";
  if (s < 1) return "under a second left";
  if (s < 90) return `about ${Math.round(s)} s left`;
  return `about ${Math.round(s / 60)} min left`;
};
export const speedText = (v) => (v === null || v === undefined ? "max"
  : (v >= 1000 ? `${v / 1000} s/s` : `${v} ms/s`));
export const esc = (text) => String(text).replace(/[&<>"']/g, (c) => (
  { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

export function css(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function toast(text) {
  let el = document.getElementById("toast");
  if (!el) {
    el = document.createElement("div");
    el.id = "toast";
    el.className = "toast";
    el.setAttribute("role", "status");
    document.body.appendChild(el);
  }
  el.textContent = text;
  el.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove("show"), 3500);
}
