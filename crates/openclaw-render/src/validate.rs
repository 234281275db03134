//! Semantic rules a careful operator applies before deploying. Every problem names the field
//! and the fix; all problems are reported at once.
//! TODO: rules are being written now.

use crate::error::{Invalid, Problem};
use crate::spec::Spec;

pub fn validate(spec: &Spec) -> Result<(), Invalid> {
    let problems = problems(spec);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid(problems))
    }
}

pub fn problems(_spec: &Spec) -> Vec<Problem> {
    Vec::new()
}
