/* regiomatch map helpers (vanilla JS on Leaflet 1.9).
 *
 * A map page carries no geometry: it names a geometry source (a URL served once per layer, or
 * data registered inline in a standalone file) and a small table keyed by feature id (zone code
 * or NIS code) with the style, tooltip and popup of each feature. Text is never built into HTML
 * here: tooltips and popups arrive as HTML escaped by the server, labels are set as textContent.
 *
 * window.regiomatch.ready turns true once every geometry has been drawn and labels placed.
 */
(function () {
    'use strict';
    var RM = window.regiomatch = window.regiomatch || {};
    RM.data = RM.data || {};
    RM.requests = {};
    RM.pending = 0;
    RM.ready = false;
    RM.labelSets = [];
    RM.errors = [];

    RM.register = function (key, data) { RM.data[key] = data; };

    RM.source = function (key, url) {
        if (!RM.requests[key]) {
            RM.requests[key] = RM.data[key] ? Promise.resolve(RM.data[key]) :
                fetch(url, {credentials: 'same-origin'}).then(function (response) {
                    if (!response.ok) { throw new Error('kaartgegevens niet geladen (' + response.status + '): ' + url); }
                    return response.json();
                });
        }
        return RM.requests[key];
    };

    function settle() {
        if (RM.pending === 0 && document.readyState === 'complete') {
            RM.labelSets.forEach(function (set) { declutter(set.map); });
            RM.ready = true;
        }
    }
    window.addEventListener('load', function () { setTimeout(settle, 0); });

    function track(promise) {
        RM.pending += 1;
        RM.ready = false;
        return promise.then(function () {
            RM.pending -= 1;
            settle();
        }, function (error) {
            RM.pending -= 1;
            RM.errors.push(String(error && error.message || error));
            settle();
            throw error;
        });
    }

    /* Space taken by the title box (and the download link under it) at the top of a map, in
     * container pixels. */
    RM.topInset = function (map) {
        var box = map.getContainer().getBoundingClientRect(), bottom = box.top;
        map.getContainer().querySelectorAll('.rm-title').forEach(function (el) {
            bottom = Math.max(bottom, el.getBoundingClientRect().bottom);
        });
        return Math.max(0, bottom - box.top);
    };

    function text(texts, ref) {
        if (ref === null || ref === undefined) { return null; }
        if (typeof ref === 'number') { return texts[ref]; }
        return ref.map(function (i) { return texts[i]; }).join('');
    }

    /* Draw the features of a geometry source that appear in o.table, into group.
     * o: {key, url, pane, interactive, table: {id: [style, hover, tip, pop]}, styles: [], texts: [] (default:
     * the page's regiomatch.texts)}; tip and pop are a text number or a list of them (joined). */
    RM.geo = function (map, group, o) {
        return track(RM.source(o.key, o.url).then(function (data) {
            var has = Object.prototype.hasOwnProperty;
            var layer = L.geoJSON(data, {
                pane: o.pane,
                interactive: o.interactive,
                smoothFactor: 1.0,
                filter: function (f) { return has.call(o.table, f.id); },
                style: function (f) { return o.styles[o.table[f.id][0]]; },
                onEachFeature: function (f, l) {
                    var row = o.table[f.id];
                    var texts = o.texts || RM.texts || [];
                    var tip = text(texts, row[2]), pop = text(texts, row[3]);
                    if (tip) { l.bindTooltip(tip, {sticky: true, direction: 'top', opacity: 0.96}); }
                    if (pop) {
                        var room = map.getSize().y - RM.topInset(map) - 60;  // the popup scrolls rather than overflow
                        l.bindPopup(pop, {maxWidth: 380, maxHeight: Math.max(room, 120),
                                          autoPanPaddingTopLeft: L.point(12, RM.topInset(map) + 12),
                                          autoPanPaddingBottomRight: L.point(12, 12)});
                    }
                    if (row[1] !== null && row[1] !== undefined) {
                        var normal = o.styles[row[0]], hover = o.styles[row[1]];
                        l.on('mouseover', function () { l.setStyle(hover); });
                        l.on('mouseout', function () { l.setStyle(normal); });
                    }
                }
            });
            group.addLayer(layer);
        }));
    };

    /* Text labels (never HTML) at points [[lat, lng, text, priority], ...]; lower priority numbers
     * win when two labels would overlap. */
    RM.labels = function (map, group, points, css) {
        var set = null;
        RM.labelSets.forEach(function (s) { if (s.map === map) { set = s; } });
        if (!set) {
            set = {map: map, labels: []};
            RM.labelSets.push(set);
            map.on('zoomend moveend overlayadd overlayremove', function () { declutter(map); });
        }
        points.forEach(function (p) {
            var el = document.createElement('div');
            el.className = css;
            el.textContent = p[2];
            L.marker([p[0], p[1]], {interactive: false, keyboard: false, pane: 'labels',
                icon: L.divIcon({className: 'rm-label-anchor', iconSize: [0, 0], iconAnchor: [0, 0], html: el})})
             .addTo(group);
            set.labels.push({el: el, priority: p[3] || 0});
        });
    };

    function overlaps(a, b) {
        return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    }

    function shifted(r, dx, dy) {
        return {left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy};
    }

    /* Place labels by priority: keep a label where it is, else move it just above, below or beside
     * its point, else hide it. Labels never cover each other. */
    function declutter(map) {
        RM.labelSets.forEach(function (set) {
            if (set.map !== map) { return; }
            var box = map.getContainer().getBoundingClientRect();
            var live = set.labels.filter(function (l) { return l.el.isConnected; });
            live.sort(function (a, b) { return a.priority - b.priority; });
            live.forEach(function (l) { l.el.style.transform = ''; l.el.style.visibility = ''; });
            var placed = [];
            live.forEach(function (l) {
                var r = l.el.getBoundingClientRect();
                if (r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) { return; }
                var w = r.right - r.left, h = r.bottom - r.top;
                var moves = [[0, 0], [0, -(h + 1)], [0, h + 1], [w / 2 + 6, 0], [-(w / 2 + 6), 0],
                             [0, -2 * (h + 1)], [0, 2 * (h + 1)]];
                for (var i = 0; i < moves.length; i++) {
                    var candidate = shifted(r, moves[i][0], moves[i][1]);
                    if (!placed.some(function (p) { return overlaps(p, candidate); })) {
                        if (i > 0) {
                            l.el.style.transform = 'translate(-50%,-50%) translate(' + moves[i][0] + 'px,' + moves[i][1] + 'px)';
                        }
                        placed.push(candidate);
                        return;
                    }
                }
                l.el.style.visibility = 'hidden';
            });
        });
    }
    RM.declutter = declutter;

    /* Fit bounds so that every part lies clear of the title (top), the legend (right) and the
     * attribution (bottom). */
    RM.fit = function (map, bounds) {
        var box = map.getContainer().getBoundingClientRect();
        var legend = map.getContainer().querySelector('.rm-legend');
        var attribution = map.getContainer().querySelector('.leaflet-control-attribution');
        var right = 12, bottom = 12;
        if (legend) { right = Math.max(right, box.right - legend.getBoundingClientRect().left + 12); }
        if (attribution) { bottom = Math.max(bottom, box.bottom - attribution.getBoundingClientRect().top + 30); }
        if (right > box.width / 2) { right = 12; }  // a narrow window: the legend may cover part, the title must not
        map.fitBounds(bounds, {paddingTopLeft: L.point(12, RM.topInset(map) + 12),
                               paddingBottomRight: L.point(right, bottom), animate: false});
    };
})();
