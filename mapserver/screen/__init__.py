"""The big screen (一屏统揽): the map page a command centre's video wall shows all day.

The page is rendered once with folium (map, layer control, empty layer groups)
and then kept live by the browser, which polls small JSON endpoints
(``/api/screen/...``) and draws their answers itself. The layers on it are
modules in ``layers/``, chosen, ordered and styled by ``map.layers`` in
config.yaml. Everything the browser loads comes from this server.
"""
