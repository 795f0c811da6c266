//! Text-to-speech engines that modules register (`tts://engine|voice|text` playback, the
//! `speak` application, Lua's `session:speak`).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// A speech synthesizer.
pub trait TtsEngine: Send + Sync {
    /// `text` spoken with `voice` (the engine's default when empty): the rate (8000, 16000
    /// or 48000) and mono samples. Runs on a blocking thread.
    fn synthesize(&self, voice: &str, text: &str) -> Result<(u32, Vec<i16>), String>;
}

/// An engine and the module that registered it.
type Entry = (String, Arc<dyn TtsEngine>);

/// The registered engines by name.
#[derive(Default)]
pub struct TtsRegistry {
    engines: RwLock<BTreeMap<String, Entry>>,
}

impl TtsRegistry {
    /// Registers `engine` as `name` for `owner` (a module); Err when the name is taken.
    pub fn register(
        &self,
        name: &str,
        owner: &str,
        engine: Arc<dyn TtsEngine>,
    ) -> Result<(), String> {
        let mut e = self.engines.write().unwrap_or_else(|p| p.into_inner());
        if let Some((o, _)) = e.get(name) {
            return Err(format!("TTS engine {name} is registered by {o} already"));
        }
        e.insert(name.to_string(), (owner.to_string(), engine));
        Ok(())
    }

    /// Removes an engine.
    pub fn unregister(&self, name: &str) {
        self.engines
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    /// The engine named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn TtsEngine>> {
        self.engines
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .map(|(_, e)| e.clone())
    }

    /// Every engine's name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.engines
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

/// `engine|voice|text` (or `engine|text`) of a `tts://` target or the `speak` application.
pub fn parse_target(spec: &str) -> Result<(&str, &str, &str), String> {
    let mut parts = spec.splitn(3, '|');
    let engine = parts.next().unwrap_or("").trim();
    let (voice, text) = match (parts.next(), parts.next()) {
        (Some(v), Some(t)) => (v.trim(), t),
        (Some(t), None) => ("", t),
        _ => return Err(format!("tts {spec:?}: expected engine|voice|text")),
    };
    if engine.is_empty() {
        return Err(format!("tts {spec:?}: no engine named"));
    }
    Ok((engine, voice, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_engine_voice_and_text() {
        assert_eq!(
            parse_target("espeak|en-us|Hello, world"),
            Ok(("espeak", "en-us", "Hello, world"))
        );
        assert_eq!(
            parse_target("espeak|Hi | there"),
            Ok(("espeak", "Hi", " there"))
        );
        assert_eq!(
            parse_target("espeak|just text"),
            Ok(("espeak", "", "just text"))
        );
        assert!(parse_target("espeak").is_err());
        assert!(parse_target("|v|t").is_err());
    }
}
