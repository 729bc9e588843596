// A wbx test service in JavaScript: `GET /` answers `hello from js`.
// componentize-js attaches the fetch event to the component's
// `wasi:http/incoming-handler` export.
addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method === "GET" && url.pathname === "/") {
    event.respondWith(new Response("hello from js"));
  } else {
    event.respondWith(new Response(`no route ${event.request.method} ${url.pathname}`, { status: 404 }));
  }
});
