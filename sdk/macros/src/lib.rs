//! `#[derive(Event)]` for `wbx-guest`: an event's type name and tags from
//! the struct itself.
//!
//! ```ignore
//! #[derive(Serialize, Deserialize, Event)]
//! #[event(type = "BookAdded")]          // optional: the struct's name by default
//! struct BookAdded {
//!     #[tag] book_id: String,           // tagged `book_id:<value>`
//!     title: String,
//! }
//! ```

use proc_macro::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr, parse_macro_input};

#[proc_macro_derive(Event, attributes(event, tag))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let mut event_type = name.to_string();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("event")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("type") {
                event_type = meta.value()?.parse::<LitStr>()?.value();
                Ok(())
            } else {
                Err(meta.error("expected `type = \"…\"`"))
            }
        })?;
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Event)] needs a struct",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(Event)] needs named fields",
        ));
    };
    let tags = fields
        .named
        .iter()
        .filter(|f| f.attrs.iter().any(|a| a.path().is_ident("tag")))
        .map(|f| {
            let field = f.ident.as_ref().expect("named field");
            let key = field.to_string();
            quote! { ::std::format!("{}:{}", #key, self.#field) }
        });
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::wbx_guest::DomainEvent for #name #type_generics #where_clause {
            const TYPE: &'static str = #event_type;
            fn tags(&self) -> ::std::vec::Vec<::std::string::String> {
                ::std::vec![#(#tags),*]
            }
        }
    })
}
