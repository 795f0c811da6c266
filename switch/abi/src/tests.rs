use super::*;

#[test]
fn same_major_any_minor_is_accepted() {
    let mut h = Header::current(64);
    assert_eq!(check_header(&h, 64), Ok(()));
    h.abi_minor = ABI_MINOR + 7;
    h.size = 128;
    assert_eq!(
        check_header(&h, 64),
        Ok(()),
        "a newer minor only grows the table"
    );
}

#[test]
fn another_major_is_refused_naming_both_versions() {
    let mut h = Header::current(64);
    h.abi_major = 99;
    h.abi_minor = 3;
    let e = check_header(&h, 64).expect_err("major 99");
    assert_eq!(
        e,
        VersionError::Major {
            theirs: (99, 3),
            ours: (ABI_MAJOR, ABI_MINOR)
        }
    );
    let text = e.to_string();
    assert!(text.contains("ABI 99.3"), "{text}");
    assert!(
        text.contains(&format!("ABI {ABI_MAJOR}.{ABI_MINOR}")),
        "{text}"
    );
}

#[test]
fn bad_magic_and_short_tables_are_refused() {
    let mut h = Header::current(64);
    h.magic = 0x1234;
    assert!(matches!(
        check_header(&h, 64),
        Err(VersionError::Magic(0x1234))
    ));
    let h = Header::current(16);
    assert_eq!(
        check_header(&h, 64),
        Err(VersionError::TooSmall { size: 16, need: 64 })
    );
}

#[test]
fn entry_symbol_carries_the_major() {
    assert_eq!(entry_symbol(ABI_MAJOR), ENTRY_SYMBOL.to_vec());
    assert_eq!(entry_symbol(99), b"ferroswitch_module_v99\0".to_vec());
}

#[test]
fn has_checks_the_size_the_host_built() {
    let mut api = std::mem::MaybeUninit::<HostApi>::zeroed();
    // SAFETY: only the header is written and read; the function pointers are never called.
    let api = unsafe {
        std::ptr::addr_of_mut!((*api.as_mut_ptr()).header)
            .write(Header::current(core::mem::offset_of!(HostApi, post)));
        &*api.as_ptr()
    };
    assert!(api.has(core::mem::offset_of!(HostApi, log)));
    assert!(api.has(core::mem::offset_of!(HostApi, cancel_timer)));
    assert!(
        !api.has(core::mem::offset_of!(HostApi, post)),
        "not built by that host"
    );
}

#[test]
fn status_names_and_signs() {
    assert!(Status::OK.is_ok() && Status::DONE.is_ok());
    assert!(!Status::PANIC.is_ok());
    assert_eq!(Status::NOT_FOUND.to_string(), "NOT_FOUND");
    assert_eq!(Status(-77).to_string(), "STATUS(-77)");
}

#[test]
fn str_ref_round_trips_and_none_is_distinct() {
    let s = StrRef::new("héllo");
    // SAFETY: the string literal is 'static.
    assert_eq!(unsafe { s.as_str() }, Some("héllo"));
    assert!(StrRef::NONE.is_none());
    // SAFETY: NONE reads as empty.
    assert_eq!(unsafe { StrRef::NONE.as_str() }, Some(""));
}
