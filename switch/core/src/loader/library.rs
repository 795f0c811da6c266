//! Opening a module's library and reading its descriptor: the checks that decide whether
//! it may load at all (a missing symbol, another ABI major, a malformed descriptor).

use std::fmt;
use std::path::Path;

use libloading::Library;
use switch_abi::{
    check_header, entry_symbol, EntryFn, Header, HostApi, ModuleDescriptor, Status, StrRef,
    StrSink, VersionError, ABI_MAJOR, ABI_MINOR, ENTRY_SYMBOL, MAGIC,
};

/// Who a module says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    /// `mod_record`.
    pub name: String,
    /// Its own version.
    pub version: String,
    /// One line saying what it does.
    pub description: String,
    /// The compiler that built it.
    pub compiler: String,
    /// The SDK it was built with.
    pub sdk: String,
    /// The ABI version it was built for.
    pub abi: (u32, u32),
}

/// An opened library whose descriptor passed the checks.
pub(super) struct Opened {
    pub lib: Library,
    pub info: ModuleInfo,
    pub init: unsafe extern "C" fn(*const HostApi, StrSink) -> Status,
    pub shutdown: unsafe extern "C" fn() -> Status,
}

/// Why a library cannot be loaded as a module.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// The dynamic loader refused it (missing file, wrong architecture, missing library).
    Open(String),
    /// It exports no entry symbol of any ABI version.
    NoSymbol,
    /// Its descriptor is for another ABI major (or not a descriptor at all).
    Version(VersionError),
    /// Its entry point returned a null descriptor.
    Null,
    /// A descriptor string is not UTF-8.
    BadString(&'static str),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Open(e) => write!(f, "cannot open the library: {e}"),
            LoadError::NoSymbol => write!(
                f,
                "missing symbol {}: not a ferroswitch module (declare it with switch_sdk::declare_module!)",
                String::from_utf8_lossy(&ENTRY_SYMBOL[..ENTRY_SYMBOL.len() - 1])
            ),
            LoadError::Version(e) => write!(f, "{e}"),
            LoadError::Null => write!(f, "its entry point returned no descriptor"),
            LoadError::BadString(field) => write!(f, "descriptor field {field} is not UTF-8"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Opens `path` and checks its descriptor.
pub(super) fn open(path: &Path) -> Result<Opened, LoadError> {
    // SAFETY: opening a library runs its initialisers: a module is code the operator chose to
    // run in the switch (configured or loaded by hand), trusted like the binary itself.
    let lib = unsafe { Library::new(path) }.map_err(|e| LoadError::Open(e.to_string()))?;
    // SAFETY: the symbol, if present, has the type the ABI gives it (EntryFn); we copy the
    // function pointer out and keep `lib` open as long as it is used.
    let entry: EntryFn = match unsafe { lib.get::<EntryFn>(ENTRY_SYMBOL) } {
        Ok(sym) => *sym,
        Err(_) => return Err(other_major(&lib)),
    };
    // SAFETY: the entry point takes nothing and returns a pointer to a static descriptor.
    let desc = unsafe { entry() };
    if desc.is_null() {
        return Err(LoadError::Null);
    }
    // SAFETY: every major starts its descriptor with the frozen Header, so reading it is valid
    // whatever the module was built for.
    let header: Header = unsafe { *(desc as *const Header) };
    check_header(&header, ModuleDescriptor::MIN_SIZE).map_err(LoadError::Version)?;
    // SAFETY: same major and at least MIN_SIZE bytes: the layout is this crate's.
    let d: &ModuleDescriptor = unsafe { &*desc };
    let s = |r: StrRef, field: &'static str| {
        // SAFETY: descriptor strings point to 'static data of the library, open here.
        unsafe { r.as_str() }
            .map(str::to_string)
            .ok_or(LoadError::BadString(field))
    };
    let info = ModuleInfo {
        name: s(d.name, "name")?,
        version: s(d.version, "version")?,
        description: s(d.description, "description")?,
        compiler: s(d.compiler, "compiler")?,
        sdk: s(d.sdk, "sdk")?,
        abi: (header.abi_major, header.abi_minor),
    };
    if info.name.is_empty() {
        return Err(LoadError::BadString("name (empty)"));
    }
    Ok(Opened {
        init: d.init,
        shutdown: d.shutdown,
        lib,
        info,
    })
}

/// Looks for the entry symbol of another major to name the version it was built for.
fn other_major(lib: &Library) -> LoadError {
    for major in (0..=64).filter(|m| *m != ABI_MAJOR) {
        // SAFETY: as for ENTRY_SYMBOL: every major's entry has the EntryFn type.
        let Ok(sym) = (unsafe { lib.get::<EntryFn>(&entry_symbol(major)) }) else {
            continue;
        };
        // SAFETY: as in open: a static descriptor whose first bytes are the frozen Header.
        let header = unsafe {
            let d = sym();
            (!d.is_null()).then(|| *(d as *const Header))
        };
        let theirs = match header {
            Some(h) if h.magic == MAGIC => (h.abi_major, h.abi_minor),
            _ => (major, 0),
        };
        return LoadError::Version(VersionError::Major {
            theirs,
            ours: (ABI_MAJOR, ABI_MINOR),
        });
    }
    LoadError::NoSymbol
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_an_open_error_naming_it() {
        let e = open(Path::new("/no/such/libmod_x.so"))
            .err()
            .expect("missing");
        assert!(matches!(e, LoadError::Open(_)), "{e}");
        assert!(e.to_string().contains("/no/such/libmod_x.so"), "{e}");
    }

    #[test]
    fn a_library_that_is_no_module_lacks_the_symbol() {
        let libm = [
            "/lib/x86_64-linux-gnu/libm.so.6",
            "/usr/lib/x86_64-linux-gnu/libm.so.6",
        ]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists());
        let Some(libm) = libm else { return };
        let e = open(libm).err().expect("libm is no module");
        assert!(matches!(e, LoadError::NoSymbol), "{e}");
        assert!(e.to_string().contains("ferroswitch_module_v1"), "{e}");
    }
}
