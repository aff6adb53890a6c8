/** Synthetic HL7 v2 MDM notes for the benchmarks when ../shared/data/synthea is absent (no PHI: invented text). */
export function generatedHl7(id: string, i: number): Buffer {
  const sentences = [
    'Patient admitted with community acquired pneumonia and acute kidney injury.',
    'Started on ceftriaxone and azithromycin; lisinopril was held.',
    'History of type 2 diabetes mellitus, hypertension and hyperlipidemia.',
    'Denies chest pain. Metformin resumed at discharge.',
    'Follow up for chronic obstructive pulmonary disease exacerbation in two weeks.',
  ];
  const text = Array.from({ length: 6 + (i % 10) }, (_, k) => sentences[(i + k) % sentences.length]).join(' ');
  return Buffer.from(
    [
      `MSH|^~\\&|BENCH|GENHOSP|MEDNER|GENHOSP|20260301093000||MDM^T02^MDM_T02|${id}-m|P|2.5.1`,
      `PID|1||${id}-mrn^^^GENHOSP^MR||Bench^Pat||19700101|F`,
      `TXA|1|DS^Discharge summary|TX|20260301090000||||||||${id}^GENHOSP||||||AU||AV`,
      `OBX|1|TX|18842-5^Discharge summary^LN||${text}||||||F`,
      '',
    ].join('\r'),
  );
}
