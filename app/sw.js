// qol's service worker (generated into dist/ by cargo xtask dist, which fills in the list of
// files). It keeps the app shell so the app opens without a network; it never caches the API,
// whose answers must come from the server (the app keeps its own data in localStorage).
const CACHE = "qol-shell-{{version}}";
const SHELL = {{shell}};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (
    event.request.method !== "GET" || url.origin !== self.location.origin ||
    url.pathname.startsWith("/api/") || url.pathname === "/staff" || url.pathname.startsWith("/staff/")
  ) {
    // The API and the staff console (online only) go straight to the network.
    return;
  }
  if (event.request.mode === "navigate") {
    // Pages: the network first (a new version), the cached shell when offline.
    event.respondWith(fetch(event.request).catch(() => caches.match("/")));
    return;
  }
  // Hashed assets never change: the cache first.
  event.respondWith(caches.match(event.request).then((hit) => hit || fetch(event.request)));
});

// A reminder by web push (docs/reminders.md): every push shows a notification, as browsers
// require (iOS revokes a subscription whose pushes show nothing). The payload is the server's
// {"title", "body", "tag"}; one that cannot be read still shows a notification.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (_) {
    message = { body: event.data ? event.data.text() : "" };
  }
  const title = message.title || "qol";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message.body || "",
      tag: message.tag || "qol-reminder",
      icon: "/icon.svg",
      data: { url: "/" },
    }),
  );
});

// Tapping the notification opens the app (an open window is focused rather than a second one).
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
      return open ? open.focus() : self.clients.openWindow("/");
    }),
  );
});
