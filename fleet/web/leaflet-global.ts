import * as Leaflet from 'leaflet';

/**
 * leaflet.markercluster is a UMD plugin that adds itself to a global `L`. The bundler hands out
 * a read-only copy of Leaflet's exports, so the plugin gets a mutable copy as its `L` and the map
 * reads the plugin's additions from that same object. Imported before the plugin.
 */
const L = { ...Leaflet } as typeof Leaflet;
(globalThis as unknown as { L: typeof Leaflet }).L = L;
export default L;
