// Loaded into every test page (after sockjs-client): drives SockJS clients
// and records what each one sees, for browser.test.js to query through
// Playwright. Every wait is bounded and rejects with the client's events.
(function () {
  'use strict';

  var clients = {};
  var nextId = 1;

  function Client(url, options) {
    var self = this;
    this.started = Date.now();
    this.events = [];
    this.messages = [];
    this.closeIndex = -1;
    this.checks = [];
    var sock = (this.sock = new SockJS(url, null, options));
    sock.onopen = function () {
      self.record({ type: 'open', transport: sock.transport });
    };
    sock.onmessage = function (e) {
      self.messages.push(e.data);
      self.record({ type: 'message', data: e.data });
    };
    sock.onheartbeat = function () {
      self.record({ type: 'heartbeat' });
    };
    sock.onclose = function (e) {
      if (self.closeIndex < 0) self.closeIndex = self.events.length;
      self.record({
        type: 'close',
        code: e.code,
        reason: e.reason,
        wasClean: e.wasClean,
        elapsed: Date.now() - self.started,
      });
    };
  }

  Client.prototype.record = function (event) {
    this.events.push(event);
    this.checks = this.checks.filter(function (check) {
      return !check();
    });
  };

  // Resolves with cond()'s value once it is truthy (checked now and after
  // every event); rejects when cond() throws, or after timeoutMs.
  Client.prototype.until = function (cond, timeoutMs, what) {
    var self = this;
    return new Promise(function (resolve, reject) {
      var timer = null;
      function check() {
        var value;
        try {
          value = cond();
        } catch (err) {
          clearTimeout(timer);
          reject(err);
          return true;
        }
        if (!value) return false;
        clearTimeout(timer);
        resolve(value);
        return true;
      }
      if (check()) return;
      timer = setTimeout(function () {
        self.checks = self.checks.filter(function (c) {
          return c !== check;
        });
        reject(new Error(what + ': nothing after ' + timeoutMs + ' ms; events: ' + self.summary()));
      }, timeoutMs);
      self.checks.push(check);
    });
  };

  Client.prototype.summary = function () {
    var parts = this.events.map(function (e) {
      if (e.type === 'message') return 'message(' + e.data.length + ' chars)';
      if (e.type === 'open') return 'open(' + e.transport + ')';
      if (e.type === 'close') return 'close(' + e.code + ' ' + JSON.stringify(e.reason) + ')';
      return e.type;
    });
    var heartbeats = parts.filter(function (p) {
      return p === 'heartbeat';
    }).length;
    parts = parts.filter(function (p) {
      return p !== 'heartbeat';
    });
    if (parts.length > 12) parts = parts.slice(0, 4).concat(['...'], parts.slice(-7));
    return '[' + parts.join(', ') + '] (' + heartbeats + ' heartbeats)';
  };

  Client.prototype.closed = function () {
    return this.closeIndex >= 0 ? this.events[this.closeIndex] : null;
  };

  function get(id) {
    var client = clients[id];
    if (!client) throw new Error('no client ' + id);
    return client;
  }

  window.sockwayTest = {
    // Opens a client; resolves when it opens or closes first:
    // {id, transport} or {id, closed: {code, reason, elapsed}}.
    open: function (url, options, timeoutMs) {
      var id = nextId++;
      var client = (clients[id] = new Client(url, options));
      return client.until(
        function () {
          var first = client.events.filter(function (e) {
            return e.type === 'open' || e.type === 'close';
          })[0];
          if (!first) return null;
          return first.type === 'open'
            ? { id: id, transport: first.transport }
            : { id: id, closed: first };
        },
        timeoutMs,
        'open ' + url,
      );
    },

    // Sends each message; resolves with the next messages.length messages
    // received after the call.
    exchange: function (id, messages, timeoutMs) {
      var client = get(id);
      var from = client.messages.length;
      messages.forEach(function (m) {
        client.sock.send(m);
      });
      return client.until(
        function () {
          if (client.closed()) throw new Error('closed during exchange: ' + client.summary());
          return client.messages.length >= from + messages.length
            ? client.messages.slice(from, from + messages.length)
            : null;
        },
        timeoutMs,
        'exchange of ' + messages.length + ' messages',
      );
    },

    send: function (id, message) {
      get(id).sock.send(message);
    },

    // Resolves once `message` has been received.
    waitMessage: function (id, message, timeoutMs) {
      var client = get(id);
      return client.until(
        function () {
          return client.messages.indexOf(message) >= 0;
        },
        timeoutMs,
        'message ' + JSON.stringify(message),
      );
    },

    waitClose: function (id, timeoutMs) {
      var client = get(id);
      return client.until(
        function () {
          return client.closed();
        },
        timeoutMs,
        'close',
      );
    },

    close: function (id, timeoutMs) {
      get(id).sock.close();
      return window.sockwayTest.waitClose(id, timeoutMs);
    },

    // The events after the first close event, and how many messages came
    // in all.
    afterClose: function (id) {
      var client = get(id);
      return {
        events: client.closeIndex < 0 ? null : client.events.slice(client.closeIndex + 1),
        messages: client.messages.length,
      };
    },

    // Event types in order, heartbeats left out.
    eventTypes: function (id) {
      return get(id)
        .events.filter(function (e) {
          return e.type !== 'heartbeat';
        })
        .map(function (e) {
          return e.type;
        });
    },

    messageCount: function (id) {
      return get(id).messages.length;
    },

    dispose: function (id) {
      var client = clients[id];
      if (client && !client.closed()) client.sock.close();
      delete clients[id];
    },
  };
})();
