//! The mesh as the core's in-process router: a module's outgoing request
//! to `http://{namespace}.{module}/…` goes to [`MeshRuntime::dispatch`]
//! without a socket; its response streams back as it comes.

use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};
use wbx_core::host_http::{Caller, ResponseFuture, RouteHttp};

use crate::runtime::MeshRuntime;

pub struct MeshRouter(pub Arc<MeshRuntime>);

impl RouteHttp for MeshRouter {
    fn claims(&self, authority: &str) -> bool {
        self.0.claims(authority)
    }

    fn send(
        &self,
        caller: &Caller,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
    ) -> ResponseFuture {
        let runtime = self.0.clone();
        let caller = caller.clone();
        Box::new(async move {
            let response = runtime.dispatch(&caller, request).await;
            Ok((
                response,
                Box::new(async { Ok::<(), Error>(()) })
                    as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}
