//! `Type: Parallel`.

use super::block::{BlockKind, Ctx, Parser, Scope};
use super::fields::{Obj, item};
use super::paths::{result_path, template};
use super::{recovery, state};
use crate::definition::{BlockId, ParallelState};

/// Parses the Parallel-specific fields of `obj`, and its branches.
pub(super) fn parse<'a>(p: &mut Parser<'a>, obj: &Obj<'a>, scope: &Scope<'_>, ctx: Ctx) -> Option<ParallelState> {
    let branches = branches(p, obj, ctx);
    let errs = &mut p.errors;
    let parameters = template(obj, "Parameters", errs);
    let result_selector = template(obj, "ResultSelector", errs);
    let result_path = result_path(obj, "ResultPath", errs);
    let retry = recovery::retriers(obj, errs);
    let catch = recovery::catchers(obj, scope, errs);
    let next = state::next(obj, scope, errs);
    Some(ParallelState { branches: branches?, parameters, result_selector, result_path, retry, catch, next: next? })
}

/// `Branches`: a non-empty array of blocks.
fn branches<'a>(p: &mut Parser<'a>, obj: &Obj<'a>, ctx: Ctx) -> Option<Vec<BlockId>> {
    let list = obj.non_empty_array("Branches", &mut p.errors)?;
    let base = obj.at("Branches");
    let mut ids = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        if let Some(branch) = Obj::entry(value, item(&base, i), "Branches", &mut p.errors) {
            ids.push(p.block(&branch, BlockKind::Branch, ctx));
        }
    }
    (ids.len() == list.len()).then_some(ids)
}
