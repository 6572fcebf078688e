/* regiomatch map helpers (vanilla JS on Leaflet 1.9).
 *
 * A map page carries no geometry: it names a geometry source (a URL served once per layer, or
 * data registered inline in a standalone file) and a small table keyed by feature id (zone code
 * or NIS code) with the style, tooltip and popup of each feature. Text is never built into HTML
 * here: tooltips and popups arrive as HTML escaped by the server, labels are set as textContent.
 * A layer of many zones (RM.zoneColumns) sends numbers per zone instead of texts: its tooltips
 * are built here as DOM nodes from them and the words the page gives, every name and number set
 * as textContent; a clicked zone's popup is fetched when it opens.
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

    /* Geometry arrives in whatever order the server answers; each layer is drawn in the order the
     * page names it, so which outline lies on top of a shared border never depends on which
     * answer came first. A source that fails does not hold up the next. */
    var drawing = Promise.resolve();
    RM.drawn = [];  // the keys of the sources drawn, in drawing order (the browser tests read it)
    function inOrder(key, source, draw) {
        var done = drawing.then(function () { return source; }).then(function (data) {
            RM.drawn.push(key);
            return draw(data);
        });
        drawing = done.then(function () {}, function () {});
        return done;
    }

    /* A layer that opens switched off (o.deferred: a register of many overlapping associations)
     * fetches its geometry only when it is switched on: a page does not download outlines nobody
     * looks at. Everything else is drawn at once. */
    function whenShown(map, group, o, draw) {
        if (!o.deferred || map.hasLayer(group)) { return draw(); }
        RM.deferred.push(o.key);
        group.once('add', function () {
            RM.deferred.splice(RM.deferred.indexOf(o.key), 1);
            draw();
        });
        return Promise.resolve();
    }
    RM.deferred = [];  // keys of sources not fetched until their layer is switched on (browser tests read it)

    /* Space taken by the title box (and the download link under it) at the top of a map, in
     * container pixels. */
    RM.topInset = function (map) {
        var box = map.getContainer().getBoundingClientRect(), bottom = box.top;
        map.getContainer().querySelectorAll('.rm-title').forEach(function (el) {
            bottom = Math.max(bottom, el.getBoundingClientRect().bottom);
        });
        return Math.max(0, bottom - box.top);
    };

    /* The page's tooltip and popup texts: a JSON data block (id rm-texts), read once. */
    function pageTexts() {
        if (RM.texts === undefined) {
            var block = document.getElementById('rm-texts');
            RM.texts = block ? JSON.parse(block.textContent) : [];
        }
        return RM.texts;
    }

    function text(texts, ref) {
        if (ref === null || ref === undefined) { return null; }
        if (typeof ref === 'number') { return texts[ref]; }
        return ref.map(function (i) { return texts[i]; }).join('');
    }

    /* Draw the features of a geometry source that appear in o.table, into group.
     * o: {key, url, pane, interactive, table: {id: [style, hover, tip, pop]}, styles: [], texts: [] (default:
     * the page's texts, a JSON block with id rm-texts)}; tip and pop are a text number or a list of them (joined). */
    RM.geo = function (map, group, o) {
        return whenShown(map, group, o, function () { return drawGeo(map, group, o); });
    };

    function drawGeo(map, group, o) {
        return track(inOrder(o.key, RM.source(o.key, o.url), function (data) {
            var has = Object.prototype.hasOwnProperty;
            var layer = L.geoJSON(data, {
                pane: o.pane,
                interactive: o.interactive,
                smoothFactor: 1.0,
                filter: function (f) { return has.call(o.table, f.id); },
                style: function (f) { return o.styles[o.table[f.id][0]]; },
                onEachFeature: function (f, l) {
                    var row = o.table[f.id];
                    var texts = o.texts || pageTexts();
                    var tip = text(texts, row[2]), pop = text(texts, row[3]);
                    if (tip) { l.bindTooltip(tip, {sticky: true, direction: 'top', opacity: 0.96}); }
                    if (pop) { l.bindPopup(pop, popupOptions(map)); }
                    else if (o.popups) { fetchedPopup(map, l, o.popups, f.id); }
                    if (row[1] !== null && row[1] !== undefined) {
                        var normal = o.styles[row[0]], hover = o.styles[row[1]];
                        l.on('mouseover', function () { l.setStyle(hover); });
                        l.on('mouseout', function () { l.setStyle(normal); });
                    }
                }
            });
            group.addLayer(layer);
        }));
    }

    /* A popup whose content is loaded when it first opens and then kept: load() gives a Promise of
     * a DOM node or of HTML the server escaped. Meanwhile it shows `loading`; after a failure it
     * shows `failed` and tries again on the next opening. */
    function loadOnOpen(map, l, load, loading, failed) {
        var asking = false;
        l.bindPopup(loading, popupOptions(map));
        l.on('popupopen', function () {
            var popup = l.getPopup();
            if (popup.getContent() !== loading || asking) { return; }
            asking = true;
            load().then(function (content) {
                popup.setContent(content);
            }, function () {
                popup.setContent(failed);
                l.once('popupclose', function () { popup.setContent(loading); });
            }).then(function () { asking = false; });
        });
    }

    /* o.popups is {url, loading, failed}: the popup's HTML is GET url + the feature id. */
    function fetchedPopup(map, l, p, id) {
        loadOnOpen(map, l, function () {
            return fetch(p.url + encodeURIComponent(id), {credentials: 'same-origin'}).then(function (r) {
                if (!r.ok) { throw new Error('HTTP ' + r.status); }
                return r.text();
            });
        }, node('span', p.loading, 'rm-muted'), node('span', p.failed, 'rm-warn'));
    }

    function popupOptions(map) {
        var room = map.getSize().y - RM.topInset(map) - 60;  // the popup scrolls rather than overflow
        return {maxWidth: 380, maxHeight: Math.max(room, 120),
                autoPanPaddingTopLeft: L.point(12, RM.topInset(map) + 12),
                autoPanPaddingBottomRight: L.point(12, 12)};
    }

    /* A whole number the Flemish way, as geo.dutch.number: 1234567 -> "1.234.567". */
    RM.nlInt = function (value) {
        var n = Math.round(Number(value)), digits = String(Math.abs(n));
        return (n < 0 ? '-' : '') + digits.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
    };

    /* A share (0..1) as a Dutch percentage, as geo.dutch.percent: 0.3714 -> "37,1 %". */
    RM.nlPct = function (share) {
        var text = (Number(share) * 100).toFixed(1).split('.');
        return RM.nlInt(Number(text[0])) + ',' + text[1] + ' %';
    };

    function node(tag, text, css) {
        var el = document.createElement(tag);
        if (text !== undefined && text !== null) { el.textContent = text; }
        if (css) { el.className = css; }
        return el;
    }

    function append(parent) {
        for (var i = 1; i < arguments.length; i++) {
            var part = arguments[i];
            parent.appendChild(typeof part === 'string' ? document.createTextNode(part) : part);
        }
        return parent;
    }

    /* Draw the zones of a geometry source from per-zone columns, for a layer of many zones.
     * o: {key, url, pane, styles: [], hover: [hover style per style], zones: {code: [], name: [],
     * style: [], tip: [] (optional, default 0), and the columns the tooltips name}, interactive (false:
     * drawn only, no tooltip or popup), tips, words, and where a clicked zone's popup comes from:
     * popups ({url, loading, failed}: GET url + code gives the popup's HTML, escaped by the server),
     * membersUrl (GET membersUrl + code gives {code, name, population, members: [{nis_code, name,
     * share, population}]}) or members (a standalone file: per zone [[nis, name, share, population]]).
     *
     * tips: {note, lines, lists}. A tooltip is the zone's name in bold and its code (and note) muted,
     * then the lines of template lines[tip]: a line is [css, part, ...], a part is text or [how,
     * column, ...]: 'int' a whole number and 'pct' a percentage (one decimal, as the server rounded
     * it) in Dutch, 'count' a whole number and its noun (singular, plural), 'pick' the entry of
     * lists[name] at the column's number. words (the members' popup): {population, part, more,
     * loading, failed, maxMembers}. */
    RM.zoneColumns = function (map, group, o) {
        return whenShown(map, group, o, function () { return drawZoneColumns(map, group, o); });
    };

    function drawZoneColumns(map, group, o) {
        var z = o.zones, w = o.words || {}, row = {};
        z.code.forEach(function (code, i) { row[code] = i; });
        var has = Object.prototype.hasOwnProperty;

        function part(p, i) {
            if (typeof p === 'string') { return p; }
            var value = z[p[1]][i];
            if (p[0] === 'int') { return RM.nlInt(value); }
            if (p[0] === 'pct') {
                var tenths = Math.round(Number(value) * 10);
                return RM.nlInt(Math.floor(tenths / 10)) + ',' + (tenths % 10) + ' %';
            }
            if (p[0] === 'count') { return RM.nlInt(value) + ' ' + (value === 1 ? p[2] : p[3]); }
            if (p[0] === 'pick') { return o.tips.lists[p[2]][value]; }
            return String(value);
        }

        function tooltip(i) {
            var box = node('div');
            append(box, node('b', z.name[i]), ' ', node('span', '(' + z.code[i] + (o.tips.note || '') + ')', 'rm-muted'));
            o.tips.lines[z.tip ? z.tip[i] : 0].forEach(function (line) {
                var text = line.slice(1).map(function (p) { return part(p, i); }).join('');
                append(box, node('br'), line[0] ? node('span', text, line[0]) : text);
            });
            return box;
        }

        function popupBody(zone) {
            var box = node('div', null, 'rm-popup'), list = node('ul');
            append(box, append(node('h4', zone.name + ' '), node('span', '(' + zone.code + ')', 'rm-muted')),
                   RM.nlInt(zone.population) + ' ' + w.population, list);
            zone.members.slice(0, w.maxMembers).forEach(function (m) {
                var line = m.name + ' (' + m.nis_code + '): ' + RM.nlInt(m.population);
                if (m.share < 0.999) { line += ' (' + w.part.replace('{share}', RM.nlPct(m.share)) + ')'; }
                list.appendChild(node('li', line));
            });
            if (zone.members.length > w.maxMembers) {
                list.appendChild(node('li', w.more.replace('{n}', RM.nlInt(zone.members.length - w.maxMembers))));
            }
            return box;
        }

        function members(i) {
            if (o.members) {
                return Promise.resolve({code: z.code[i], name: z.name[i], population: z.population[i],
                    members: o.members[i].map(function (m) {
                        return {nis_code: m[0], name: m[1], share: m[2], population: m[3]};
                    })});
            }
            return fetch(o.membersUrl + encodeURIComponent(z.code[i]), {credentials: 'same-origin'})
                .then(function (response) {
                    if (!response.ok) { throw new Error('gemeenten niet geladen (' + response.status + ')'); }
                    return response.json();
                });
        }

        /* The popup is loaded when it first opens (loadOnOpen): fetched HTML, or the zone's members. */
        function bindPopup(l, i) {
            if (o.popups) { fetchedPopup(map, l, o.popups, z.code[i]); return; }
            loadOnOpen(map, l, function () { return members(i).then(popupBody); },
                       node('div', w.loading, 'rm-popup rm-muted'), node('div', w.failed, 'rm-popup rm-warn'));
        }

        var interactive = o.interactive !== false;
        return track(inOrder(o.key, RM.source(o.key, o.url), function (data) {
            var layer = L.geoJSON(data, {
                pane: o.pane,
                interactive: interactive,
                smoothFactor: 1.0,
                filter: function (f) { return has.call(row, f.id); },
                style: function (f) { return o.styles[z.style[row[f.id]]]; },
                onEachFeature: function (f, l) {
                    if (!interactive) { return; }
                    var i = row[f.id], normal = o.styles[z.style[i]], hoverIndex = o.hover[z.style[i]];
                    l.bindTooltip(function () { return tooltip(i); }, {sticky: true, direction: 'top', opacity: 0.96});
                    bindPopup(l, i);
                    if (hoverIndex !== null && hoverIndex !== undefined) {
                        var hover = o.styles[hoverIndex];
                        l.on('mouseover', function () { l.setStyle(hover); });
                        l.on('mouseout', function () { l.setStyle(normal); });
                    }
                }
            });
            group.addLayer(layer);
        }));
    }

    /* The labels of one RM.labels call as one layer: an anchor per label in the 'labels' pane, placed
     * as a marker would be (and moved with the zoom animation). One layer, not a marker per label:
     * Leaflet checks each new marker's map listeners against all earlier ones, which took seconds
     * for the 10,000 zone codes of an imported grid. */
    var LabelLayer = L.Layer.extend({
        options: {pane: 'labels'},
        initialize: function (items) { this._items = items; },
        onAdd: function (map) {
            var pane = map.getPane(this.options.pane);
            this._items.forEach(function (item) { pane.appendChild(item.anchor); });
            this._place();
        },
        onRemove: function () {
            this._items.forEach(function (item) { L.DomUtil.remove(item.anchor); });
        },
        getEvents: function () {
            return {zoom: this._place, viewreset: this._place, zoomanim: this._animate};
        },
        _place: function () {
            var map = this._map;
            this._items.forEach(function (item) {
                L.DomUtil.setPosition(item.anchor, map.latLngToLayerPoint(item.latlng).round());
            });
        },
        _animate: function (e) {
            var map = this._map;
            this._items.forEach(function (item) {
                L.DomUtil.setPosition(item.anchor, map._latLngToNewLayerPoint(item.latlng, e.zoom, e.center).round());
            });
        }
    });

    /* Text labels (never HTML) at points [[lat, lng, text, priority], ...] (priority 0 when left
     * out); lower priority numbers win when two labels would overlap. */
    RM.labels = function (map, group, points, css) {
        var set = null;
        RM.labelSets.forEach(function (s) { if (s.map === map) { set = s; } });
        if (!set) {
            set = {map: map, labels: []};
            RM.labelSets.push(set);
            // Until every layer is drawn the view still moves (fit): settle() places the labels then.
            map.on('zoomend moveend overlayadd overlayremove', function () { if (RM.ready) { declutter(map); } });
        }
        var animated = map.options.zoomAnimation && L.Browser.any3d;
        var items = points.map(function (p) {
            var el = document.createElement('div');
            el.className = css;
            el.textContent = p[2];
            // What L.divIcon({className: 'rm-label-anchor', iconSize: [0, 0], iconAnchor: [0, 0]}) makes.
            var anchor = document.createElement('div');
            anchor.className = 'rm-label-anchor leaflet-marker-icon ' + (animated ? 'leaflet-zoom-animated' : 'leaflet-zoom-hide');
            anchor.style.width = anchor.style.height = anchor.style.marginLeft = anchor.style.marginTop = '0px';
            anchor.appendChild(el);
            set.labels.push({el: el, priority: p[3] || 0});
            return {latlng: L.latLng(p[0], p[1]), anchor: anchor};
        });
        group.addLayer(new LabelLayer(items));
    };

    function overlaps(a, b) {
        return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    }

    function shifted(r, dx, dy) {
        return {left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy};
    }

    /* Place labels by priority: keep a label where it is, else move it just above, below or beside
     * its point, else hide it. Labels never cover each other. Every label is measured first and
     * moved or hidden after (measuring between changes made the browser lay out the page once per
     * label), and placed labels are found through a grid of cells, not compared one by one: a
     * map of 10,000 zone codes is placed in a fraction of a second. */
    var CELL = 64;  // px: the grid of placed labels
    function declutter(map) {
        RM.labelSets.forEach(function (set) {
            if (set.map !== map) { return; }
            var box = map.getContainer().getBoundingClientRect();
            var live = set.labels.filter(function (l) { return l.el.isConnected; });
            live.sort(function (a, b) { return a.priority - b.priority; });
            live.forEach(function (l) { l.el.style.transform = ''; l.el.style.visibility = ''; });
            var rects = live.map(function (l) { return l.el.getBoundingClientRect(); });
            var cells = {};
            function cellsOf(r, visit) {
                for (var x = Math.floor(r.left / CELL); x <= Math.floor(r.right / CELL); x++) {
                    for (var y = Math.floor(r.top / CELL); y <= Math.floor(r.bottom / CELL); y++) {
                        if (visit(x + ',' + y)) { return true; }
                    }
                }
                return false;
            }
            function free(candidate) {
                return !cellsOf(candidate, function (key) {
                    return (cells[key] || []).some(function (p) { return overlaps(p, candidate); });
                });
            }
            var changes = live.map(function (l, k) {
                var r = rects[k];
                if (r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) { return null; }
                var w = r.right - r.left, h = r.bottom - r.top;
                var moves = [[0, 0], [0, -(h + 1)], [0, h + 1], [w / 2 + 6, 0], [-(w / 2 + 6), 0],
                             [0, -2 * (h + 1)], [0, 2 * (h + 1)]];
                for (var i = 0; i < moves.length; i++) {
                    var candidate = shifted(r, moves[i][0], moves[i][1]);
                    if (free(candidate)) {
                        cellsOf(candidate, function (key) { (cells[key] = cells[key] || []).push(candidate); });
                        return i > 0 ? moves[i] : null;
                    }
                }
                return 'hidden';
            });
            live.forEach(function (l, k) {
                var change = changes[k];
                if (change === 'hidden') { l.el.style.visibility = 'hidden'; }
                else if (change) { l.el.style.transform = 'translate(-50%,-50%) translate(' + change[0] + 'px,' + change[1] + 'px)'; }
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
