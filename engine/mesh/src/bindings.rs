//! The service world as Rust. A service implements the standard
//! `wasi:http/proxy` world, whose bindings `wasmtime-wasi-http` generates
//! (any `wasi:http/incoming-handler@0.2.x` export links to them); the wbx
//! interfaces it may import beyond (`commands`, `read-model`) come from the
//! core's bindings. So this model has no `bindgen!` of its own.

use wasmtime::component::InstancePre;
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wbx_core::{HostState, ModuleKind, WorldPre};

/// A service's typed pre-instance.
pub struct ServicePre(ProxyPre<HostState>);

impl WorldPre for ServicePre {
    const KIND: ModuleKind = crate::kinds::SERVICE;
    type Bindings = Proxy;

    fn new(pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        ProxyPre::new(pre).map(ServicePre)
    }

    fn instantiate(
        &self,
        store: &mut wasmtime::Store<HostState>,
    ) -> impl Future<Output = wasmtime::Result<Proxy>> + Send {
        self.0.instantiate_async(store)
    }
}
