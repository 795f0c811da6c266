//! A module built "against ABI 99": it exports the v1 entry symbol (as a mismatched build
//! would) but its descriptor says major 99. The switch must refuse it naming both versions,
//! before calling anything else.

use switch_abi::{Header, HostApi, ModuleDescriptor, Status, StrRef, StrSink};

unsafe extern "C" fn init(_host: *const HostApi, _err: StrSink) -> Status {
    // Never called: the switch checks the version first.
    Status::ERROR
}

unsafe extern "C" fn shutdown() -> Status {
    Status::OK
}

static DESCRIPTOR: ModuleDescriptor = ModuleDescriptor {
    header: Header {
        abi_major: 99,
        abi_minor: 4,
        ..Header::current(std::mem::size_of::<ModuleDescriptor>())
    },
    name: StrRef::new("mod_wrong_abi"),
    version: StrRef::new("0.0.1"),
    description: StrRef::new("built for ABI 99"),
    compiler: StrRef::new("none"),
    sdk: StrRef::new("none"),
    init,
    shutdown,
};

/// The entry point a v1 switch looks for.
#[no_mangle]
pub extern "C" fn ferroswitch_module_v1() -> *const ModuleDescriptor {
    &DESCRIPTOR
}
