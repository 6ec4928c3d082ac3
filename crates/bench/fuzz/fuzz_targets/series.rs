#![no_main]

//! A whole `timestamp,value[,...]` file, as `dialtone detect` and the NAB and
//! AIOps KPI runners stream it.

use dialtone_bench::series::SeriesReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(mut reader) = SeriesReader::from_reader(input, "fuzz.csv".into()) else {
        return;
    };
    let label = reader.column("label");
    let mut last_line = 1;
    while let Ok(Some(row)) = reader.next_row() {
        assert!(row.line > last_line, "lines go forward");
        last_line = row.line;
        assert!(row.value.is_none_or(f64::is_finite));
        if let Some(c) = label {
            let _ = row.field(c);
        }
    }
});
